import { z } from 'zod';
import { EVENT_TYPE_PATTERN, NAME_TOKEN, ORG_TOKEN } from './naming';

/**
 * The CloudEvents 1.0 JSON envelope every Palisade event travels in, with the extensions
 * of ARCHITECTURE.md: orgid, actor, traceparent, correlationid, causationid, sequence.
 */

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
/** Actors: `user:<id>`, `service:<name>`, `token:<id>`, `system`. */
const ACTOR = /^(system|(user|service|token|demo):[A-Za-z0-9_.@:-]{1,200})$/;
const SOURCE = /^\/palisade\/[a-z][a-z0-9_-]*$/;

/** Largest encoded event the transport accepts (bytes); NATS' default max_payload is 1 MiB. */
export const MAX_EVENT_BYTES = 256 * 1024;

const envelopeShape = {
  specversion: z.literal('1.0'),
  id: z.uuid({ version: 'v7' }).describe('UUIDv7, unique per event; also the Nats-Msg-Id'),
  source: z.string().regex(SOURCE).describe('/palisade/<context>'),
  type: z.string().max(200).regex(EVENT_TYPE_PATTERN).describe('palisade.<context>.<entity>.<verb>.v<N>'),
  subject: z.string().min(1).max(256).describe('the aggregate the event is about, e.g. link/<id>'),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  data: z.unknown(),
  orgid: z.string().regex(ORG_TOKEN).describe('owning organization id, or "system"'),
  actor: z
    .string()
    .max(256)
    .regex(ACTOR)
    .describe('who caused it: user:<id>, service:<name>, token:<id>, system'),
  traceparent: z.string().regex(TRACEPARENT).optional().describe('W3C trace context of the causing request'),
  correlationid: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_.:-]+$/),
  causationid: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_.:-]+$/)
    .optional(),
};

/** An event as it is stored before the outbox relay gives it its producer sequence. */
export const unsequencedEnvelopeSchema = z.object(envelopeShape).meta({
  id: 'PalisadeEventUnsequenced',
  title: 'Palisade event (before publication)',
});

/** An event as published on NATS and seen by every consumer. */
export const envelopeSchema = z
  .object({
    ...envelopeShape,
    sequence: z.int().min(1).describe("the producer's gap-free position, assigned by its outbox relay"),
  })
  .meta({ id: 'PalisadeEvent', title: 'Palisade event (CloudEvents 1.0 envelope)' });

export type UnsequencedEnvelope<D = unknown> = Omit<z.infer<typeof unsequencedEnvelopeSchema>, 'data'> & {
  data: D;
};
export type EventEnvelope<D = unknown> = Omit<z.infer<typeof envelopeSchema>, 'data'> & { data: D };

/** Source attribute for a context's events. */
export function eventSource(context: string): string {
  if (!NAME_TOKEN.test(context)) throw new Error(`invalid context "${context}"`);
  return `/palisade/${context}`;
}
