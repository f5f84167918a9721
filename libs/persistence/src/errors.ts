/** Thrown when an append's expected version does not match the stream: someone else wrote first. */
export class ConcurrencyConflictError extends Error {
  readonly code = 'concurrency_conflict';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion?: number,
  ) {
    super(
      `stream "${streamId}" is not at version ${expectedVersion}` +
        (actualVersion === undefined ? ' (a concurrent write won)' : ` (it is at ${actualVersion})`),
    );
  }
}

/** Postgres unique_violation. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}
