/**
 * Names shared by every context: contexts, NATS subjects, JetStream stream names and
 * CloudEvents types. Handlers never type these as string literals; they call these helpers.
 */

/** The seven bounded contexts (one service each). */
export const CONTEXTS = [
  'identity',
  'authorization',
  'placement',
  'secrets',
  'devlink',
  'runtime-scheduler',
  'audit',
] as const;
export type ContextName = (typeof CONTEXTS)[number];

/** A context, entity or verb token: lowercase, starts with a letter, `-` or `_` inside. */
export const NAME_TOKEN = /^[a-z][a-z0-9_-]{0,62}$/;
/** An organization id as it appears in a subject: no dots, wildcards or whitespace. */
export const ORG_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
/** The organization token used for events that belong to no organization (e.g. key rotation). */
export const SYSTEM_ORG = 'system';

export const EVENT_SUBJECT_ROOT = 'evt';
export const REPLAY_SUBJECT_ROOT = 'replay';
export const DLQ_SUBJECT_ROOT = 'dlq';

function assertToken(kind: string, value: string, pattern: RegExp): string {
  if (!pattern.test(value)) throw new Error(`invalid ${kind} "${value}": must match ${pattern}`);
  return value;
}

/** `evt.<context>.<orgid>.<entity>.<verb>` */
export function eventSubject(context: string, orgId: string, entity: string, verb: string): string {
  assertToken('context', context, NAME_TOKEN);
  assertToken('organization id', orgId, ORG_TOKEN);
  assertToken('entity', entity, NAME_TOKEN);
  assertToken('verb', verb, NAME_TOKEN);
  return `${EVENT_SUBJECT_ROOT}.${context}.${orgId}.${entity}.${verb}`;
}

/** The subject filter for one event kind across all organizations (or one, if given). */
export function eventFilter(context: string, entity: string, verb: string, orgId = '*'): string {
  return `${EVENT_SUBJECT_ROOT}.${context}.${orgId}.${entity}.${verb}`;
}

/** Every subject of one context: what its stream stores. */
export function contextSubjects(context: string): string {
  assertToken('context', context, NAME_TOKEN);
  return `${EVENT_SUBJECT_ROOT}.${context}.>`;
}

export interface ParsedEventSubject {
  context: string;
  orgId: string;
  entity: string;
  verb: string;
}

/** Parses `evt.<context>.<orgid>.<entity>.<verb>`; returns undefined for anything else. */
export function parseEventSubject(subject: string): ParsedEventSubject | undefined {
  const parts = subject.split('.');
  if (parts.length !== 5 || parts[0] !== EVENT_SUBJECT_ROOT) return undefined;
  const [, context, orgId, entity, verb] = parts;
  if (
    !NAME_TOKEN.test(context) ||
    !ORG_TOKEN.test(orgId) ||
    !NAME_TOKEN.test(entity) ||
    !NAME_TOKEN.test(verb)
  ) {
    return undefined;
  }
  return { context, orgId, entity, verb };
}

/** `EVT_<CONTEXT>`: one JetStream stream per context. */
export function streamName(context: string): string {
  assertToken('context', context, NAME_TOKEN);
  return `EVT_${upperSnake(context)}`;
}

/** `DLQ_<SERVICE>`: the dead-letter stream a service's consumers write poison messages to. */
export function deadLetterStreamName(service: string): string {
  assertToken('service', service, NAME_TOKEN);
  return `DLQ_${upperSnake(service)}`;
}

/** `dlq.<service>.<consumer>` */
export function deadLetterSubject(service: string, consumer: string): string {
  return `${DLQ_SUBJECT_ROOT}.${assertToken('service', service, NAME_TOKEN)}.${assertToken('consumer', consumer, NAME_TOKEN)}`;
}

/** `replay.<context>`: ask a producer for a range of its events by sequence. */
export function replaySubject(context: string): string {
  return `${REPLAY_SUBJECT_ROOT}.${assertToken('context', context, NAME_TOKEN)}`;
}

/** `palisade.<context>.<entity>.<verb>.v<N>` */
export function eventType(context: string, entity: string, verb: string, version: number): string {
  assertToken('context', context, NAME_TOKEN);
  assertToken('entity', entity, NAME_TOKEN);
  assertToken('verb', verb, NAME_TOKEN);
  if (!Number.isInteger(version) || version < 1) throw new Error(`invalid event version ${version}`);
  return `palisade.${context}.${entity}.${verb}.v${version}`;
}

export const EVENT_TYPE_PATTERN =
  /^palisade\.([a-z][a-z0-9_-]*)\.([a-z][a-z0-9_-]*)\.([a-z][a-z0-9_-]*)\.v([1-9][0-9]*)$/;

export interface ParsedEventType {
  context: string;
  entity: string;
  verb: string;
  version: number;
}

export function parseEventType(type: string): ParsedEventType | undefined {
  const match = EVENT_TYPE_PATTERN.exec(type);
  if (!match) return undefined;
  return { context: match[1], entity: match[2], verb: match[3], version: Number(match[4]) };
}

/** `runtime-scheduler` → `RUNTIME_SCHEDULER` */
export function upperSnake(name: string): string {
  return name.replace(/-/g, '_').toUpperCase();
}

/** `runtime-scheduler` → `runtime_scheduler`: the service's Postgres schema. */
export function schemaName(service: string): string {
  return assertToken('service', service, NAME_TOKEN).replace(/-/g, '_');
}
