import {
  EventEnvelope,
  EventRegistry,
  InvalidEventPayloadError,
  MAX_EVENT_BYTES,
  UnknownEventTypeError,
  envelopeSchema,
  eventSource,
  eventSubject,
  formatIssues,
  parseEventSubject,
  parseEventType,
} from '@palisade/contracts';
import { headers, MsgHdrs } from 'nats';

/** Why a message could not be turned into an event. Stable codes for logs and dead letters. */
export type DecodeErrorCode =
  | 'too_large'
  | 'not_json'
  | 'invalid_envelope'
  | 'subject_mismatch'
  | 'unknown_event_type'
  | 'invalid_event_payload';

export class DecodeError extends Error {
  constructor(
    readonly code: DecodeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export const HEADER_SEQUENCE = 'Palisade-Sequence';
export const HEADER_TYPE = 'Palisade-Type';
export const HEADER_TRACEPARENT = 'traceparent';

export function encodeEnvelope(envelope: EventEnvelope): Uint8Array {
  return encoder.encode(JSON.stringify(envelope));
}

/** Message headers of a published event: type, sequence and the W3C traceparent. */
export function publicationHeaders(event: { type: string; sequence: number; traceparent?: string }): MsgHdrs {
  const h = headers();
  h.set('Content-Type', 'application/cloudevents+json');
  h.set(HEADER_TYPE, event.type);
  h.set(HEADER_SEQUENCE, String(event.sequence));
  if (event.traceparent) h.set(HEADER_TRACEPARENT, event.traceparent);
  return h;
}

/**
 * Turns message bytes into a validated envelope. The subject must be the one the envelope's
 * type and organization map to, so that subject-based permissions cannot be side-stepped.
 * Payloads are validated when the registry knows the type; `requireKnownType` rejects the rest.
 */
export function decodeEnvelope(
  subject: string,
  data: Uint8Array,
  registry: EventRegistry,
  options: { requireKnownType?: boolean } = {},
): EventEnvelope {
  if (data.length > MAX_EVENT_BYTES)
    throw new DecodeError('too_large', `event is ${data.length} bytes; the limit is ${MAX_EVENT_BYTES}`);
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch {
    throw new DecodeError('not_json', 'event is not UTF-8 JSON');
  }
  return validateEnvelope(subject, raw, registry, options);
}

/** The checks of decodeEnvelope on an already parsed value (e.g. an event from a replay). */
export function validateEnvelope(
  subject: string,
  raw: unknown,
  registry: EventRegistry,
  options: { requireKnownType?: boolean } = {},
): EventEnvelope {
  const parsed = envelopeSchema.safeParse(raw);
  if (!parsed.success)
    throw new DecodeError('invalid_envelope', `invalid envelope: ${formatIssues(parsed.error).join('; ')}`);
  const envelope = parsed.data as EventEnvelope;
  const type = parseEventType(envelope.type)!;
  const route = parseEventSubject(subject);
  if (
    !route ||
    route.context !== type.context ||
    route.entity !== type.entity ||
    route.verb !== type.verb ||
    route.orgId !== envelope.orgid ||
    envelope.source !== eventSource(type.context)
  ) {
    throw new DecodeError(
      'subject_mismatch',
      `a ${envelope.type} event of organization ${envelope.orgid} cannot arrive on ${subject}`,
    );
  }
  if (registry.get(envelope.type)) {
    try {
      envelope.data = registry.parseData(envelope);
    } catch (error) {
      if (error instanceof InvalidEventPayloadError)
        throw new DecodeError('invalid_event_payload', error.message);
      throw error;
    }
  } else if (options.requireKnownType) {
    throw new DecodeError('unknown_event_type', new UnknownEventTypeError(envelope.type).message);
  }
  return envelope;
}

/** The subject an envelope is published on. */
export function subjectOf(envelope: Pick<EventEnvelope, 'type' | 'orgid'>): string {
  const type = parseEventType(envelope.type);
  if (!type) throw new DecodeError('invalid_envelope', `invalid event type ${envelope.type}`);
  return eventSubject(type.context, envelope.orgid, type.entity, type.verb);
}

/** The context that produced an envelope (from its source, `/palisade/<context>`). */
export function producerOf(envelope: Pick<EventEnvelope, 'source'>): string {
  return envelope.source.slice('/palisade/'.length);
}
