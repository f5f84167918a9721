import { eventSource } from './envelope.schema';
import {
  ContextName,
  deadLetterStreamName,
  replaySubject,
  schemaName,
  streamName,
  contextSubjects,
} from './naming';

/** The names one context owns: its stream, subjects, Postgres schema and replay endpoint. */
export interface ContextConstants<C extends string = string> {
  readonly context: C;
  readonly stream: string;
  readonly subjects: string;
  readonly source: string;
  readonly schema: string;
  readonly replaySubject: string;
  readonly deadLetterStream: string;
  /** Nest transport id: handlers tagged with it run on this service's NATS connection and database. */
  readonly transport: symbol;
}

export function contextConstants<const C extends string>(context: C): ContextConstants<C> {
  return Object.freeze({
    context,
    stream: streamName(context),
    subjects: contextSubjects(context),
    source: eventSource(context),
    schema: schemaName(context),
    replaySubject: replaySubject(context),
    deadLetterStream: deadLetterStreamName(context),
    transport: Symbol.for(`palisade.transport.${context}`),
  });
}

export type KnownContextConstants = ContextConstants<ContextName>;
