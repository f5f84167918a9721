import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessTokenGuard, CurrentPrincipal } from '@palisade/auth';
import type { Principal } from '@palisade/auth';
import { API_TOKEN_SCOPES, IDENTITY, IDENTITY_RPC, ORG_TOKEN, SYSTEM_ORG } from '@palisade/contracts';
import { OnRequest, rpcSubject } from '@palisade/messaging';
import { apiError, validate } from '@palisade/runtime';
import { z } from 'zod';
import { ApiTokenService } from '../sessions/api-token.service';
import { UserDirectory } from '../sessions/user.directory';
import { idParam } from './id-param';

const issueBody = z
  .object({
    name: z.string().regex(/^[\x20-\x7e]{1,100}$/),
    orgId: z
      .string()
      .regex(ORG_TOKEN)
      .refine((org) => org !== SYSTEM_ORG),
    scope: z.enum(API_TOKEN_SCOPES),
    expiresInDays: z.int().min(1).max(365),
  })
  .strict();

function userOf(principal: Principal) {
  if (principal.kind !== 'user')
    throw apiError(403, 'forbidden', 'API tokens are managed by a signed-in person, not by another token.');
  return principal;
}

/** API tokens for tools and integrators (identity only: authorization decides what the organization allows). */
@ApiTags('identity')
@Controller('v1/api-tokens')
export class ApiTokenController {
  constructor(
    private readonly tokens: ApiTokenService,
    private readonly users: UserDirectory,
  ) {}

  @Post()
  @UseGuards(AccessTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Issue an API token (shown once; stored only as a hash)' })
  @ApiBody({
    schema: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        orgId: { type: 'string' },
        scope: { enum: [...API_TOKEN_SCOPES] },
        expiresInDays: { type: 'integer', minimum: 1, maximum: 365 },
      },
    },
  })
  issue(
    @Body(validate(issueBody, { code: 'invalid_api_token' })) input: z.infer<typeof issueBody>,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.tokens.issue(userOf(principal).userId, input);
  }

  @Get()
  @UseGuards(AccessTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Your API tokens (never the tokens themselves)' })
  async list(@CurrentPrincipal() principal: Principal) {
    return { items: await this.tokens.list(userOf(principal).userId) };
  }

  @Post(':id/revoke')
  @HttpCode(204)
  @UseGuards(AccessTokenGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Revoke an API token: every service refuses it from now on' })
  async revoke(
    @Param('id', validate(idParam, { code: 'invalid_api_token_id' })) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    const user = userOf(principal);
    const token = await this.tokens.find(id);
    const allowed = token && (token.userId === user.userId || (await this.users.isAdmin(user.userId)));
    if (!token || !allowed) throw apiError(404, 'api_token_not_found', 'There is no such API token.');
    await this.tokens.revoke(id, token.orgId, user.userId);
  }

  @OnRequest(IDENTITY, rpcSubject(IDENTITY, IDENTITY_RPC.apiToken))
  async resolve(@Payload() body: unknown) {
    const parsed = z
      .object({ tokenHash: z.string().regex(/^[0-9a-f]{64}$/) })
      .strict()
      .safeParse(body);
    if (!parsed.success) return { error: { code: 'invalid_request', message: 'send { tokenHash }' } };
    return { principal: (await this.tokens.resolve(parsed.data.tokenHash)) ?? null };
  }
}
