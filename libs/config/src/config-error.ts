/** One thing wrong with the environment: which setting, what is wrong, and how to fix it. Never holds a sensitive value. */
export interface ConfigProblem {
  /** The environment variable, e.g. `DATABASE_URL` (`(config)` for the environment as a whole). */
  key: string;
  message: string;
  fix?: string;
}

/** Thrown by `loadConfig` with every problem found at once; the caller prints `message` and exits. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(formatConfigProblems(problems));
    this.problems = problems.map((problem) => ({ ...problem }));
  }
}

/** "N config errors found:" followed by one line per problem. */
export function formatConfigProblems(problems: readonly ConfigProblem[]): string {
  const heading = `${problems.length} config ${problems.length === 1 ? 'error' : 'errors'} found:`;
  const lines = problems.map(
    ({ key, message, fix }) => `  - ${key}: ${message}${fix ? ` (fix: ${fix})` : ''}`,
  );
  return [heading, ...lines].join('\n');
}
