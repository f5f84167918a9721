import { RuleError } from '@palisade/domain';

/** Stable codes of every way a credential is refused (the guard answers 401 with them). */
export const AUTH_ERROR_MESSAGES = {
  token_missing: 'Send an access token: Authorization: Bearer <token>.',
  token_too_large: 'The access token is larger than any token Palisade issues.',
  token_malformed: 'The access token is not a well-formed JWT.',
  token_algorithm_refused: 'The access token is not signed with the algorithm Palisade uses.',
  token_header_refused:
    'The access token header carries fields Palisade refuses (embedded keys or key URLs).',
  token_key_unknown: 'The access token is signed with a key Palisade does not know.',
  token_signature_invalid: 'The access token signature does not verify.',
  token_expired: 'The access token has expired; refresh it or sign in again.',
  token_not_yet_valid: 'The access token is not valid yet.',
  token_issuer_invalid: 'The access token was not issued by Palisade identity.',
  token_audience_invalid: 'The access token is not meant for the Palisade API.',
  token_claims_invalid: 'The access token lacks required claims or lives longer than Palisade allows.',
  session_revoked: 'This session was signed out or revoked; sign in again.',
  api_token_invalid: 'The API token is unknown, expired or revoked.',
  auth_unavailable: 'Sign-in verification is starting or cannot reach identity; try again shortly.',
} as const;

export type AuthErrorCode = keyof typeof AUTH_ERROR_MESSAGES;

/**
 * A refused credential: 401, or 503 when verification itself is unavailable. A RuleError, so the
 * HTTP filter answers it like every other refusal. The message never contains the credential.
 */
export class AuthError extends RuleError {
  override readonly name = 'AuthError';
  declare readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string = AUTH_ERROR_MESSAGES[code]) {
    super(code === 'auth_unavailable' ? 503 : 401, code, message);
  }
}
