import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ACCESS_TOKEN_TYPE } from '@palisade/auth';
import { ACCESS_TOKEN_ALGORITHM, DEFAULT_TOKEN_AUDIENCE, DEFAULT_TOKEN_ISSUER } from '@palisade/contracts';
import { SignJWT } from 'jose';
import type { IdentityConfig } from '../identity.config';
import { SigningKeyRing } from '../keys/signing-key.ring';
import type { Clock } from '@palisade/domain';
import { CLOCK, SERVICE_CONFIG } from '@palisade/runtime';

/** A random id for sessions, users and tokens: 128 bits, base64url. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

/** A random opaque secret with a readable prefix (`pal_rt_`, `pal_at_`): 256 bits, base64url. */
export function opaqueToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export interface AccessToken {
  token: string;
  expiresIn: number;
}

/** Signs access JWTs: EdDSA, iss, aud, sub, sid, jti, iat, nbf, exp (at most 30 minutes). */
@Injectable()
export class TokenIssuer {
  constructor(
    private readonly keys: SigningKeyRing,
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async accessToken(userId: string, sessionId: string): Promise<AccessToken> {
    const { kid, key } = await this.keys.current();
    const now = Math.floor(this.clock.now() / 1000);
    const ttl = this.config.IDENTITY_ACCESS_TOKEN_TTL_SECONDS;
    const token = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(DEFAULT_TOKEN_ISSUER)
      .setAudience(DEFAULT_TOKEN_AUDIENCE)
      .setSubject(userId)
      .setJti(randomId())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ttl)
      .sign(key);
    return { token, expiresIn: ttl };
  }
}
