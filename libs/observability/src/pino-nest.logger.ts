import { LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';

/** Nest's own start-up chatter (one line per module and route): debug, not info. */
const FRAMEWORK_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestMicroservice',
]);

/** Nest's logger calls, written as pino JSON lines (so Nest's own messages get the same redaction). */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = params[params.length - 1];
    this.write(
      typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context) ? 'debug' : 'info',
      message,
      params,
    );
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params, true);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest passes `(message, ...extra, context?)`, and for errors `(message, stack?, context?)`. */
  private write(level: Level, message: unknown, params: unknown[], isError = false): void {
    const extra = params.filter((param) => param !== undefined);
    const fields: Record<string, unknown> = {};
    if (
      extra.length > 0 &&
      typeof extra[extra.length - 1] === 'string' &&
      !(isError && extra.length === 1 && isStack(extra[0]))
    ) {
      fields.context = extra.pop();
    }
    const stack =
      isError && typeof extra[0] === 'string' && isStack(extra[0]) ? (extra.shift() as string) : undefined;
    let text: string | undefined;
    if (message instanceof Error) {
      fields.err = message;
    } else if (message !== null && typeof message === 'object') {
      Object.assign(fields, message);
    } else {
      text = String(message);
    }
    if (stack !== undefined) fields.err = { type: 'Error', message: text, stack };
    if (extra.length > 0) fields.params = extra;
    if (text === undefined) this.logger[level](fields);
    else this.logger[level](fields, text);
  }
}

function isStack(value: unknown): boolean {
  return typeof value === 'string' && /\n\s+at /.test(value);
}
