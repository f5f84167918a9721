/** A rule of the secrets domain said no: `code` is stable, `status` the HTTP status it maps to. */
export class SecretRuleError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413 | 422 | 503,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SecretRuleError';
  }
}
