import {
  CONTEXTS,
  ContextConstants,
  EventDefinition,
  contextSubjects,
  streamName,
} from '@palisade/contracts';
import { EventPattern, MessagePattern } from '@nestjs/microservices';

/** Which events a handler receives: one event type, every event of one context, or all contexts. */
export type EventSelector = EventDefinition | { readonly context: string; readonly stream: string } | 'all';

export interface EventHandlerOptions {
  /** Deliveries before an event goes to the dead-letter stream (default 5). */
  maxDeliver?: number;
  /** Most events per transaction (default 128). */
  batchSize?: number;
  /** Follow the producer's sequence and replay what the transport lost (whole-stream selectors only). */
  gapCheck?: boolean;
  /** Accept event types the registry does not know (default: only for 'all'/context selectors). */
  acceptUnknownTypes?: boolean;
  /**
   * Receive each micro-batch as one call (`events: EventEnvelope[]`), for set-based projections.
   * A failing batch is retried event by event, so the handler must also accept one-element arrays.
   */
  batch?: boolean;
}

/** What the decorators record in the handler's Nest `extras`. */
export interface PalisadeHandlerExtras {
  palisade:
    | ({
        kind: 'event';
        owner: ContextConstants;
        consumer: string;
        selector: EventSelector;
      } & EventHandlerOptions)
    | { kind: 'request'; owner: ContextConstants; subject: string };
}

/** One JetStream subscription an event handler needs: a stream and a subject filter. */
export interface EventSubscription {
  stream: string;
  context: string;
  filterSubject: string;
  durable: string;
  wholeStream: boolean;
}

function isDefinition(selector: EventSelector): selector is EventDefinition {
  return typeof selector === 'object' && 'type' in selector;
}

/** The streams and filters a selector maps to; one durable consumer each. */
export function subscriptionsFor(
  owner: ContextConstants,
  consumer: string,
  selector: EventSelector,
): EventSubscription[] {
  const base = `${owner.context}-${consumer}`;
  if (selector === 'all') {
    return CONTEXTS.map((context) => ({
      stream: streamName(context),
      context,
      filterSubject: contextSubjects(context),
      durable: `${base}-${context}`,
      wholeStream: true,
    }));
  }
  if (isDefinition(selector)) {
    return [
      {
        stream: streamName(selector.context),
        context: selector.context,
        filterSubject: selector.filter(),
        durable: base,
        wholeStream: false,
      },
    ];
  }
  return [
    {
      stream: selector.stream,
      context: selector.context,
      filterSubject: contextSubjects(selector.context),
      durable: base,
      wholeStream: true,
    },
  ];
}

/**
 * `@EventPattern` for a durable JetStream consumer owned by `owner`:
 *
 *     @OnEvent(IDENTITY, 'revoke-sessions', AUTHORIZATION_EVENT.memberRemoved)
 *     async onMemberRemoved(@Payload() event: EventEnvelope<MemberRemoved>, @Ctx() ctx: JetStreamContext) { ... }
 *
 * The handler runs inside a transaction of the owner's database (`ctx.trx`) that also records
 * the event in the owner's inbox, so its effects happen exactly once.
 */
export function OnEvent(
  owner: ContextConstants,
  consumer: string,
  selector: EventSelector,
  options: EventHandlerOptions = {},
): MethodDecorator {
  const extras: PalisadeHandlerExtras = {
    palisade: { kind: 'event', owner, consumer, selector, ...options },
  };
  return EventPattern(`${owner.context}-${consumer}`, extras);
}

/** `@MessagePattern` for a NATS request/reply endpoint served by `owner` (queue group per service). */
export function OnRequest(owner: ContextConstants, subject: string): MethodDecorator {
  const extras: PalisadeHandlerExtras = { palisade: { kind: 'request', owner, subject } };
  return MessagePattern(subject, extras);
}
