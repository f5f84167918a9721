import { contextConstants } from '../context';

/** Names owned by the identity context (stream, subjects, schema, replay subject, transport id). */
export const IDENTITY = contextConstants('identity');

/** The `iss` of every Palisade access token (unless PALISADE_TOKEN_ISSUER says otherwise). */
export const DEFAULT_TOKEN_ISSUER = 'urn:palisade:identity';
/** The `aud` every Palisade service expects in an access token. */
export const DEFAULT_TOKEN_AUDIENCE = 'urn:palisade:api';
/** Access tokens live at most this long (ARCHITECTURE.md invariant 8). */
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 30 * 60;
/** Refresh tokens (and so sessions that are not refreshed) last this long. */
export const REFRESH_TOKEN_TTL_SECONDS = 7 * 24 * 60 * 60;
/** The only JWS algorithm identity signs with and the guard accepts. */
export const ACCESS_TOKEN_ALGORITHM = 'EdDSA';

/** Request/reply endpoints identity serves (`rpc.identity.<name>`). */
export const IDENTITY_RPC = {
  /** Replies with the public JWKS: `{ keys: JWK[] }`. */
  jwks: 'jwks',
  /** `{ tokenHash }` → the API token's principal, or `{ error }`. */
  apiToken: 'api-token',
} as const;

/** Stream ids of identity's aggregates in its event store. */
export const IDENTITY_STREAMS = {
  user: (userId: string) => `user/${userId}`,
  /** A session and its refresh-token family. */
  session: (sessionId: string) => `session/${sessionId}`,
  apiToken: (tokenId: string) => `api-token/${tokenId}`,
  signingKey: (kid: string) => `signing-key/${kid}`,
  /** Every failed sign-in (login.failed), one stream. */
  loginFailures: 'login-failures',
} as const;
