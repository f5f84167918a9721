/** The statuses a rule of the domain may answer with (client errors, and 503 for "not now"). */
export type RuleStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 414 | 415 | 422 | 429 | 503;

/**
 * A rule said no. Domains (deciders, pure checks) throw it; the HTTP filter of libs/runtime maps
 * it to a problem+json answer once, for every service. `code` is stable and machine-readable,
 * `message` a sentence a person can act on; neither may contain a secret or the caller's input.
 * No framework is imported here, so a domain stays free of NestJS.
 *
 *     throw new RuleError(409, 'last_owner', 'The last owner cannot be removed: make another member owner first.');
 */
export class RuleError extends Error {
  override readonly name: string = 'RuleError';

  constructor(
    readonly status: RuleStatus,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
