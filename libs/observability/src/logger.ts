import { trace } from '@opentelemetry/api';
import pino, { DestinationStream, Level, Logger, LoggerOptions } from 'pino';
import { REDACTED, redactPaths, redactString, redactValue } from './redaction';

/** Pino's levels, plus `silent`. */
export type LogLevelName = Level | 'silent';

export interface CreateLoggerOptions {
  /**
   * Added to every line as `service`, e.g. `identity`. Leave it out in a process that runs several
   * services: each service's child logger then sets its own (pino would repeat a bound key).
   */
  service?: string;
  level?: LogLevelName;
  /** Where lines go (default: stdout). Tests pass a memory stream. */
  destination?: DestinationStream;
}

/**
 * A pino JSON logger with Palisade's redaction, in three layers:
 * 1. pino `redact` paths censor REDACTED_KEYS (any value type) up to REDACT_MAX_PARENTS levels deep;
 * 2. printf-style arguments are copied with the same keys censored (pino's paths do not see them);
 * 3. every serialized line passes through `redactString` (bearer tokens, JWTs, URL passwords,
 *    `password=`/`"token":` pairs at any depth, error messages and stacks included).
 * Lines carry `trace_id`/`span_id` of the active OpenTelemetry span.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.service ? { service: options.service } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths(), censor: REDACTED },
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err },
    mixin: traceFields,
    hooks: {
      logMethod(args, method) {
        // printf-style arguments after the message are not seen by the redact paths.
        const messageIndex = typeof args[0] === 'string' ? 0 : 1;
        const prepared = (args as unknown[]).map((arg, index) =>
          index > messageIndex ? redactValue(arg) : arg,
        );
        return method.apply(this, prepared as Parameters<typeof method>);
      },
      streamWrite: redactString,
    },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

/** The active span's ids, so logs and traces can be joined. */
function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
