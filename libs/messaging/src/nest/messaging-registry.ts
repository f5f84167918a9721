import { ContextConstants, createEventRegistry, EventDefinition } from '@palisade/contracts';
import { AnyDatabase } from '@palisade/persistence';
import { Injectable } from '@nestjs/common';
import { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import { MessagingLogger } from '../logger';

/** What one service running in this process brings to the transport. */
export interface ServiceMessaging {
  context: ContextConstants;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  db: AnyDatabase;
  logger: MessagingLogger;
  /** Handlers' transactions go here after commit, so that events they appended are relayed at once. */
  afterCommit(trx: AnyDatabase): void;
}

/**
 * The services mounted in this process, by context name. Each service's runtime module
 * registers itself; the JetStream transport runs a handler on its owner's connection and database.
 */
@Injectable()
export class MessagingRegistry {
  private readonly services = new Map<string, ServiceMessaging>();
  /** Every event type known in this process: the contracts, plus what mounted services define. */
  readonly events = createEventRegistry();

  register(service: ServiceMessaging, events: readonly EventDefinition[] = []): void {
    if (this.services.has(service.context.context))
      throw new Error(`service ${service.context.context} is registered twice`);
    this.events.registerAll(events);
    this.services.set(service.context.context, service);
  }

  unregister(context: string): void {
    this.services.delete(context);
  }

  get(context: string): ServiceMessaging {
    const service = this.services.get(context);
    if (!service) throw new Error(`service ${context} is not running in this process`);
    return service;
  }

  list(): ServiceMessaging[] {
    return [...this.services.values()];
  }
}
