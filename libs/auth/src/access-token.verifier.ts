import { createHash, timingSafeEqual } from 'node:crypto';
import type { DemoTokenRole, DemoTokens } from '@palisade/config';
import {
  ACCESS_TOKEN_ALGORITHM,
  DEFAULT_TOKEN_AUDIENCE,
  DEFAULT_TOKEN_ISSUER,
  MAX_ACCESS_TOKEN_TTL_SECONDS,
} from '@palisade/contracts';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, JWTPayload } from 'jose';
import { AuthError, AuthErrorCode } from './auth-error';
import { JwksKeyStore } from './jwks-key-store';
import { ApiTokenPrincipal, Principal, UserPrincipal } from './principal';
import { RevocationList } from './revocation-list';

/** Palisade access tokens are a few hundred bytes; anything past this is refused unread. */
export const MAX_TOKEN_LENGTH = 4096;
/** Clock skew tolerated on exp, nbf and iat (seconds). */
export const CLOCK_TOLERANCE_SECONDS = 5;
/** The `typ` header of Palisade access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Prefix of API tokens (opaque, checked by identity). */
export const API_TOKEN_PREFIX = 'pal_at_';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const REFUSED_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit'];

/** Resolves an API token (by its SHA-256 hash) to its principal, or undefined when it is not valid. */
export type ApiTokenResolver = (tokenHash: string) => Promise<ApiTokenPrincipal | undefined>;

export interface AccessTokenVerifierOptions {
  keys: JwksKeyStore;
  revocations: RevocationList;
  issuer?: string;
  audience?: string;
  /** Static demo tokens (PALISADE_MODE=demo only; the config refuses them elsewhere). */
  demoTokens?: DemoTokens;
  apiTokens?: ApiTokenResolver;
  /** Resolves once revocations are caught up; verification waits for it (fail closed). */
  ready?: Promise<void>;
  /** How long a request waits for `ready` before it is answered 503 (default 5 s). */
  readyTimeoutMs?: number;
  /** Verified tokens remembered (default 10,000); 0 turns the cache off. */
  cacheSize?: number;
  now?: () => number;
}

interface CachedToken {
  principal: UserPrincipal;
  notBefore: number;
  keyGeneration: number;
}

/** The SHA-256 of a token, hex: how identity stores API tokens and refresh tokens. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Verifies Palisade credentials: access JWTs (EdDSA only, against identity's JWKS, with iss,
 * aud, exp, nbf, iat, sub, sid and jti checked and revoked sessions refused), API tokens
 * (through identity) and, in demo mode, static demo tokens. A verified token is remembered by
 * its exact text, so a repeat costs a map lookup; expiry and revocation are checked every time.
 */
export class AccessTokenVerifier {
  private readonly issuer: string;
  private readonly audience: string;
  private readonly cache = new Map<string, CachedToken>();
  private readonly cacheSize: number;
  private readonly now: () => number;
  private readonly demo: { role: DemoTokenRole; digest: Buffer }[];

  constructor(private readonly options: AccessTokenVerifierOptions) {
    this.issuer = options.issuer ?? DEFAULT_TOKEN_ISSUER;
    this.audience = options.audience ?? DEFAULT_TOKEN_AUDIENCE;
    this.cacheSize = options.cacheSize ?? 10_000;
    this.now = options.now ?? Date.now;
    this.demo = Object.entries(options.demoTokens ?? {}).map(([role, token]) => ({
      role: role as DemoTokenRole,
      digest: createHash('sha256').update(token!).digest(),
    }));
  }

  /** The principal of a credential, or an AuthError saying why it is refused. */
  async verify(token: string | undefined): Promise<Principal> {
    if (typeof token !== 'string' || token.length === 0) throw new AuthError('token_missing');
    if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('token_too_large');
    if (this.options.ready) await this.waitUntilReady(this.options.ready);
    const demo = this.demoPrincipal(token);
    if (demo) return demo;
    if (token.startsWith(API_TOKEN_PREFIX)) return this.verifyApiToken(token);
    return this.verifyJwt(token);
  }

  private async waitUntilReady(ready: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AuthError('auth_unavailable')),
        this.options.readyTimeoutMs ?? 5_000,
      );
    });
    try {
      await Promise.race([ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private demoPrincipal(token: string): Principal | undefined {
    if (this.demo.length === 0) return undefined;
    const digest = createHash('sha256').update(token).digest();
    const match = this.demo.find((entry) => timingSafeEqual(entry.digest, digest));
    return match ? { kind: 'demo', role: match.role } : undefined;
  }

  private async verifyApiToken(token: string): Promise<Principal> {
    const resolve = this.options.apiTokens;
    const principal = resolve ? await resolve(tokenHash(token)) : undefined;
    if (!principal || this.options.revocations.isApiTokenRevoked(principal.tokenId))
      throw new AuthError('api_token_invalid');
    if (principal.expiresAt * 1000 <= this.now()) throw new AuthError('api_token_invalid');
    return principal;
  }

  private async verifyJwt(token: string): Promise<UserPrincipal> {
    const nowSeconds = this.now() / 1000;
    const cached = this.cache.get(token);
    if (cached && cached.keyGeneration === this.options.keys.generation) {
      this.checkTimes(cached.principal.expiresAt, cached.notBefore, nowSeconds);
      this.checkRevocation(cached.principal);
      return cached.principal;
    }
    const kid = this.checkHeader(token);
    const key = await this.options.keys.key(kid);
    if (!key) throw new AuthError('token_key_unknown');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [ACCESS_TOKEN_ALGORITHM],
        issuer: this.issuer,
        audience: this.audience,
        typ: ACCESS_TOKEN_TYPE,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['iss', 'aud', 'sub', 'sid', 'jti', 'iat', 'exp'],
        currentDate: new Date(this.now()),
      }));
    } catch (error) {
      throw new AuthError(joseErrorCode(error));
    }
    const principal = this.principalOf(payload);
    this.checkRevocation(principal);
    this.remember(token, {
      principal,
      notBefore: typeof payload.nbf === 'number' ? payload.nbf : 0,
      keyGeneration: this.options.keys.generation,
    });
    return principal;
  }

  /** Refuses everything but a compact EdDSA JWS with a kid, before any key is looked up. */
  private checkHeader(token: string): string {
    if (token.split('.').length !== 3) throw new AuthError('token_malformed');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new AuthError('token_malformed');
    }
    if (header.alg !== ACCESS_TOKEN_ALGORITHM) throw new AuthError('token_algorithm_refused');
    if (REFUSED_HEADERS.some((name) => name in header)) throw new AuthError('token_header_refused');
    if (typeof header.kid !== 'string' || !ID.test(header.kid)) throw new AuthError('token_malformed');
    return header.kid;
  }

  private principalOf(payload: JWTPayload): UserPrincipal {
    const { sub, sid, jti, exp, iat } = payload as JWTPayload & { sid?: unknown };
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      !ID.test(sub) ||
      !ID.test(sid) ||
      !ID.test(jti) ||
      typeof exp !== 'number' ||
      typeof iat !== 'number' ||
      exp - iat > MAX_ACCESS_TOKEN_TTL_SECONDS ||
      iat > this.now() / 1000 + CLOCK_TOLERANCE_SECONDS
    ) {
      throw new AuthError('token_claims_invalid');
    }
    return { kind: 'user', userId: sub, sessionId: sid, tokenId: jti, expiresAt: exp };
  }

  private checkTimes(expiresAt: number, notBefore: number, nowSeconds: number): void {
    if (nowSeconds - CLOCK_TOLERANCE_SECONDS >= expiresAt) throw new AuthError('token_expired');
    if (nowSeconds + CLOCK_TOLERANCE_SECONDS < notBefore) throw new AuthError('token_not_yet_valid');
  }

  private checkRevocation(principal: UserPrincipal): void {
    if (this.options.revocations.isSessionRevoked(principal.sessionId))
      throw new AuthError('session_revoked');
  }

  private remember(token: string, entry: CachedToken): void {
    if (this.cacheSize === 0) return;
    if (this.cache.size >= this.cacheSize) {
      // Drop the oldest entry (Map keeps insertion order).
      this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(token, entry);
  }
}

function joseErrorCode(error: unknown): AuthErrorCode {
  if (error instanceof joseErrors.JWTExpired) return 'token_expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return 'token_issuer_invalid';
      case 'aud':
        return 'token_audience_invalid';
      case 'nbf':
        return 'token_not_yet_valid';
      default:
        return 'token_claims_invalid';
    }
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'token_signature_invalid';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'token_algorithm_refused';
  return 'token_malformed';
}
