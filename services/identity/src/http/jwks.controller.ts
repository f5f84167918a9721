import { Controller, Get, Header, HttpCode, Post, UseGuards } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessTokenGuard, CurrentPrincipal } from '@palisade/auth';
import type { Principal } from '@palisade/auth';
import { IDENTITY, IDENTITY_RPC } from '@palisade/contracts';
import { OnRequest, rpcSubject } from '@palisade/messaging';
import { apiError } from '@palisade/runtime';
import { SigningKeyRing } from '../keys/signing-key.ring';
import { UserDirectory } from '../sessions/user.directory';

/** The public keys of access tokens: over HTTP for anyone, over NATS for Palisade services. */
@ApiTags('identity')
@Controller()
export class JwksController {
  constructor(
    private readonly keys: SigningKeyRing,
    private readonly users: UserDirectory,
  ) {}

  @Get('.well-known/jwks.json')
  @Header('Cache-Control', 'public, max-age=60')
  @ApiOperation({ summary: 'The JWKS that verifies Palisade access tokens (EdDSA, Ed25519)' })
  jwks() {
    return this.keys.jwks();
  }

  @OnRequest(IDENTITY, rpcSubject(IDENTITY, IDENTITY_RPC.jwks))
  jwksRequest(@Payload() _body: unknown) {
    return this.keys.jwks();
  }

  @Post('v1/signing-keys/rotate')
  @HttpCode(200)
  @UseGuards(AccessTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Rotate the signing key now (admin); the old key stays in the JWKS until its tokens expire',
  })
  async rotate(@CurrentPrincipal() principal: Principal) {
    if (principal.kind !== 'user' || !(await this.users.isAdmin(principal.userId)))
      throw apiError(403, 'forbidden', 'Only the admin can rotate signing keys.');
    const { kid } = await this.keys.rotate();
    return { kid };
  }
}
