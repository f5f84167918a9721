import { z } from 'zod';
import { defineEvent, DomainEventOf, EventDefinition } from '../registry';
import { IDENTITY } from './identity.constants';

// No payload here ever carries a token, a token hash, a password or a secret: only ids.

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const id = (what: string) => z.string().regex(ID).describe(what);
const timestamp = (what: string) => z.iso.datetime({ offset: true }).describe(what);
const context = IDENTITY.context;

/** How someone proved who they are. */
export const LOGIN_METHODS = ['oidc', 'bootstrap'] as const;
export const loginMethod = z.enum(LOGIN_METHODS);

/** Why a session ended. */
export const SESSION_REVOKE_REASONS = ['logout', 'admin', 'refresh_token_reuse'] as const;

/** What an API token may do in its one organization. */
export const API_TOKEN_SCOPES = ['read', 'write'] as const;

/** Why a login was refused (stable codes, never the credential). */
export const LOGIN_FAILURE_REASONS = [
  'bad_credentials',
  'locked_out',
  'state_unknown',
  'state_reused',
  'state_expired',
  'id_token_invalid',
  'provider_error',
] as const;

export const userRegistered = defineEvent({
  context,
  entity: 'user',
  verb: 'registered',
  description: 'A person signed in for the first time (identity only: it grants nothing).',
  data: z
    .object({
      userId: id('Palisade user id'),
      method: loginMethod,
      issuer: z.string().max(512).describe('OIDC issuer, or "palisade:bootstrap"'),
      displayName: z.string().max(200).optional(),
    })
    .strict(),
});

export const sessionStarted = defineEvent({
  context,
  entity: 'session',
  verb: 'started',
  description: 'A user signed in: a session with a refresh-token family began.',
  data: z
    .object({
      sessionId: id('session id (the `sid` of its access tokens)'),
      userId: id('Palisade user id'),
      method: loginMethod,
      expiresAt: timestamp('when the first refresh token expires'),
    })
    .strict(),
});

export const sessionRefreshed = defineEvent({
  context,
  entity: 'session',
  verb: 'refreshed',
  description: 'A refresh token was spent and replaced by the next one of its family.',
  data: z
    .object({
      sessionId: id('session id'),
      userId: id('Palisade user id'),
      generation: z.int().min(1).describe('the generation of the new refresh token'),
      expiresAt: timestamp('when the new refresh token expires'),
    })
    .strict(),
});

export const sessionRevoked = defineEvent({
  context,
  entity: 'session',
  verb: 'revoked',
  description: 'A session ended before its time: every service refuses its access tokens from now on.',
  data: z
    .object({
      sessionId: id('session id'),
      userId: id('Palisade user id'),
      reason: z.enum(SESSION_REVOKE_REASONS),
    })
    .strict(),
});

export const refreshTokenReuseDetected = defineEvent({
  context,
  entity: 'refresh_token',
  verb: 'reuse_detected',
  description: 'A spent refresh token was presented again: its whole family (session) is revoked.',
  data: z
    .object({
      sessionId: id('session id of the family'),
      userId: id('Palisade user id'),
      presentedGeneration: z.int().min(0),
      currentGeneration: z.int().min(0),
    })
    .strict(),
});

export const loginFailed = defineEvent({
  context,
  entity: 'login',
  verb: 'failed',
  description: 'A sign-in attempt was refused (counts toward backoff and lockout).',
  data: z
    .object({
      method: loginMethod,
      reason: z.enum(LOGIN_FAILURE_REASONS),
      userId: id('the account, when one was named and exists').optional(),
      lockedUntil: timestamp('when the account may try again, if it is locked').optional(),
    })
    .strict(),
});

export const apiTokenIssued = defineEvent({
  context,
  entity: 'api_token',
  verb: 'issued',
  description: 'An API token was issued (the token itself is shown once and never stored).',
  data: z
    .object({
      tokenId: id('API token id'),
      userId: id('who created it'),
      name: z.string().min(1).max(100),
      scope: z.enum(API_TOKEN_SCOPES),
      expiresAt: timestamp('when it stops working'),
    })
    .strict(),
});

export const apiTokenRevoked = defineEvent({
  context,
  entity: 'api_token',
  verb: 'revoked',
  description: 'An API token was revoked: every service refuses it from now on.',
  data: z.object({ tokenId: id('API token id'), userId: id('who revoked it') }).strict(),
});

export const signingKeyRotated = defineEvent({
  context,
  entity: 'signing_key',
  verb: 'rotated',
  description:
    'Identity signs new access tokens with a new key; the previous one stays in the JWKS until its last token expires.',
  data: z
    .object({
      kid: id('key id of the new signing key'),
      alg: z.literal('EdDSA'),
      previousKid: id('key id of the key it replaces').optional(),
      previousKeyRetiresAt: timestamp('when the previous key leaves the JWKS').optional(),
    })
    .strict(),
});

/** Every event type the identity context emits. */
export const IDENTITY_EVENT = {
  userRegistered,
  sessionStarted,
  sessionRefreshed,
  sessionRevoked,
  refreshTokenReuseDetected,
  loginFailed,
  apiTokenIssued,
  apiTokenRevoked,
  signingKeyRotated,
} as const;

export const IDENTITY_EVENTS: readonly EventDefinition[] = Object.values(IDENTITY_EVENT);

/** The identity context's domain events: `{ type, data }`. */
export type IdentityEvent = DomainEventOf<(typeof IDENTITY_EVENT)[keyof typeof IDENTITY_EVENT]>;
