/** The logging surface the messaging library needs (pino's). */
export interface MessagingLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (for tools and tests that do not care). */
export const silentLogger: MessagingLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** A short, single-line description of an error, never its stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 500);
  return String(error).slice(0, 500);
}
