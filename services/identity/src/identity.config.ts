import { secretField, serviceConfigSchema } from '@palisade/config';
import { MAX_ACCESS_TOKEN_TTL_SECONDS } from '@palisade/contracts';
import { z } from 'zod';

const seconds = (min: number, max: number, fallback: number) =>
  z
    .string()
    .refine((value) => /^\d{1,9}$/.test(value) && Number(value) >= min && Number(value) <= max, {
      error: `must be a whole number of seconds from ${min} to ${max}`,
    })
    .transform(Number)
    .default(fallback);

const count = (min: number, max: number, fallback: number) =>
  z
    .string()
    .refine((value) => /^\d{1,9}$/.test(value) && Number(value) >= min && Number(value) <= max, {
      error: `must be a whole number from ${min} to ${max}`,
    })
    .transform(Number)
    .default(fallback);

/** The identity service's whole environment (see libs/config). */
export const identityConfigSchema = serviceConfigSchema('identity', {
  /** How long access tokens live (at most 30 minutes). */
  IDENTITY_ACCESS_TOKEN_TTL_SECONDS: seconds(60, MAX_ACCESS_TOKEN_TTL_SECONDS, 15 * 60),
  /** How often the signing key rotates (default daily). */
  IDENTITY_KEY_ROTATION_SECONDS: seconds(60, 90 * 24 * 3600, 24 * 3600),
  /** OAuth client id Palisade has at PALISADE_OIDC_ISSUER. */
  PALISADE_OIDC_CLIENT_ID: z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, { error: 'must be a client id' })
    .optional(),
  /** Its client secret (omit for a public client: PKCE protects the code either way). */
  PALISADE_OIDC_CLIENT_SECRET: secretField().optional(),
  /** The redirect URI registered at the provider: <Palisade URL>/v1/auth/oidc/callback. */
  PALISADE_OIDC_REDIRECT_URI: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL ending in /v1/auth/oidc/callback' })
    .optional(),
  /** Scopes asked for at login. */
  PALISADE_OIDC_SCOPES: z
    .string()
    .regex(/^[\x21-\x7e]+( [\x21-\x7e]+)*$/, { error: 'must be space-separated scopes' })
    .default('openid profile email'),
  /** Where the one-time bootstrap admin credential is written (mode 0600) on an empty install without OIDC. */
  IDENTITY_BOOTSTRAP_FILE: z.string().min(1).default('.palisade/bootstrap-admin.json'),
  /** Requests per minute per client address on login and token endpoints. */
  IDENTITY_AUTH_RATE_LIMIT_PER_MINUTE: count(1, 100_000, 30),
  /** Failed logins of one account before it is locked out. */
  IDENTITY_LOCKOUT_THRESHOLD: count(1, 1000, 5),
  /** How long the first lockout lasts; each further failure doubles it (at most a day). */
  IDENTITY_LOCKOUT_SECONDS: seconds(1, 86_400, 60),
  /**
   * File (mode 0600) holding the key that encrypts the signing keys' private halves in the
   * database: 64 hex characters. Required in production (keep it outside the database, e.g. a
   * mounted Secret); dev and demo create `.palisade/identity-key-encryption.key` when unset.
   */
  IDENTITY_KEY_ENCRYPTION_KEY_FILE: z.string().min(1).optional(),
}).superRefine((value, ctx) => {
  if (value.PALISADE_MODE === 'production' && value.IDENTITY_KEY_ENCRYPTION_KEY_FILE === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['IDENTITY_KEY_ENCRYPTION_KEY_FILE'],
      message:
        'is required in production (the signing keys are encrypted at rest with a key kept outside the database)',
      params: {
        fix: 'create one with `(umask 077; openssl rand -hex 32 > identity-kek.hex)`, mount it, and set IDENTITY_KEY_ENCRYPTION_KEY_FILE to its path',
      },
    });
  }
});

/** Where dev and demo keep the signing keys' encryption key when IDENTITY_KEY_ENCRYPTION_KEY_FILE is unset. */
export const DEV_KEY_ENCRYPTION_KEY_FILE = '.palisade/identity-key-encryption.key';
export type IdentityConfig = z.infer<typeof identityConfigSchema>;
