import { Logger } from '@nestjs/common';
import { CustomTransportStrategy, MessageHandler, RpcException, Server } from '@nestjs/microservices';
import { EventEnvelope, EventRegistry } from '@palisade/contracts';
import { isObservable, lastValueFrom } from 'rxjs';
import { Subscription } from 'nats';
import { DecodeError } from '../codec';
import { DurableConsumer, EventHandlerContext } from '../durable-consumer';
import { describeError } from '../logger';
import { PalisadeHandlerExtras, subscriptionsFor } from './handler.decorators';
import { JetStreamEventContext, NatsRequestContext } from './jetstream.context';
import { MessagingRegistry } from './messaging-registry';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Largest request body accepted on request/reply endpoints. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** Error reply of a request/reply endpoint. */
export interface RequestError {
  error: { code: string; message: string };
}

/**
 * The NestJS custom transport of Palisade: every `@OnEvent` handler becomes a durable JetStream
 * pull consumer (per stream it selects) on its owner's connection; every `@OnRequest` handler a
 * queue-group subscription. Handlers stay plain `@EventPattern` / `@MessagePattern` methods.
 */
export class JetStreamTransport extends Server implements CustomTransportStrategy {
  private readonly consumers: DurableConsumer[] = [];
  private readonly subscriptions: Subscription[] = [];
  private readonly log = new Logger('JetStreamTransport');

  constructor(private readonly registry: MessagingRegistry) {
    super();
  }

  private get events(): EventRegistry {
    return this.registry.events;
  }

  /** Durable consumers started by this transport (tests and readiness look at them). */
  list(): readonly DurableConsumer[] {
    return this.consumers;
  }

  on(): never {
    throw new Error('JetStreamTransport does not emit transport events');
  }

  unwrap<T>(): T {
    return this.registry as T;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      for (const [pattern, handler] of this.getHandlers()) {
        const extras = (handler.extras as Partial<PalisadeHandlerExtras> | undefined)?.palisade;
        if (!extras) throw new Error(`handler for "${pattern}" must use @OnEvent or @OnRequest`);
        if (extras.kind === 'event') await this.startConsumers(handler, extras);
        else this.serveRequests(handler, extras.owner.context, extras.subject);
      }
      callback();
    } catch (error) {
      callback(error);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.consumers.length = 0;
    this.subscriptions.length = 0;
  }

  private async startConsumers(
    handler: MessageHandler,
    extras: Extract<PalisadeHandlerExtras['palisade'], { kind: 'event' }>,
  ) {
    const service = this.registry.get(extras.owner.context);
    const selector = extras.selector;
    const target = typeof selector === 'object' && 'type' in selector ? selector : undefined;
    for (const subscription of subscriptionsFor(extras.owner, extras.consumer, selector)) {
      const consumer = new DurableConsumer({
        owner: extras.owner,
        durable: subscription.durable,
        stream: subscription.stream,
        filterSubject: subscription.filterSubject,
        nc: service.nc,
        js: service.js,
        jsm: service.jsm,
        db: service.db,
        registry: this.events,
        requireKnownType: !(extras.acceptUnknownTypes ?? !target),
        maxDeliver: extras.maxDeliver,
        batchSize: extras.batchSize,
        gapCheck:
          extras.gapCheck && subscription.wholeStream ? { producer: subscription.context } : undefined,
        logger: service.logger,
        afterCommit: (trx) => service.afterCommit(trx),
        prepare: target
          ? (envelope) => {
              try {
                return this.events.decode(envelope, target) as EventEnvelope;
              } catch (error) {
                throw new DecodeError('invalid_event_payload', describeError(error));
              }
            }
          : undefined,
        ...(extras.batch
          ? {
              handleBatch: async (envelopes: EventEnvelope[], context: EventHandlerContext) => {
                const result = await handler(
                  envelopes,
                  new JetStreamEventContext([
                    context.trx,
                    envelopes[0],
                    context.deliveryCount,
                    context.consumer,
                  ]),
                );
                if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
              },
            }
          : {
              handle: async (envelope: EventEnvelope, context: EventHandlerContext) => {
                const result = await handler(
                  envelope,
                  new JetStreamEventContext([context.trx, envelope, context.deliveryCount, context.consumer]),
                );
                if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
              },
            }),
      });
      await consumer.start();
      this.consumers.push(consumer);
    }
  }

  private serveRequests(handler: MessageHandler, owner: string, subject: string): void {
    const service = this.registry.get(owner);
    const subscription = service.nc.subscribe(subject, {
      queue: `${owner}-requests`,
      callback: (error, msg) => {
        if (error || !msg.reply) return;
        void (async () => {
          let body: unknown;
          try {
            if (msg.data.length > MAX_REQUEST_BYTES)
              throw new RpcException({
                code: 'request_too_large',
                message: `requests are limited to ${MAX_REQUEST_BYTES} bytes`,
              });
            let payload: unknown;
            try {
              payload = msg.data.length ? JSON.parse(decoder.decode(msg.data)) : undefined;
            } catch {
              throw new RpcException({ code: 'invalid_json', message: 'the request body is not JSON' });
            }
            let result = await handler(payload, new NatsRequestContext([msg]));
            if (isObservable(result)) result = await lastValueFrom(result, { defaultValue: undefined });
            body = result ?? null;
          } catch (e) {
            body = toRequestError(e);
            if ((body as RequestError).error.code === 'internal_error')
              this.log.error(`request on ${subject} failed: ${describeError(e)}`);
          }
          msg.respond(encoder.encode(JSON.stringify(body)));
        })();
      },
    });
    this.subscriptions.push(subscription);
  }
}

/** Turns a handler error into a stable `{ error: { code, message } }` without internals. */
export function toRequestError(error: unknown): RequestError {
  const value = error instanceof RpcException ? error.getError() : error;
  if (value && typeof value === 'object') {
    const { code, message } = value as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && /^[a-z][a-z0-9_]*$/.test(code) && typeof message === 'string') {
      return { error: { code, message } };
    }
  }
  return { error: { code: 'internal_error', message: 'the request could not be handled' } };
}
