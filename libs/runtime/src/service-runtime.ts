import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ContextConstants, EventDefinition } from '@palisade/contracts';
import type { NatsTlsFiles } from '@palisade/config';
import {
  connectNats,
  contextStreamConfig,
  deadLetterStreamConfig,
  describeError,
  ensureStream,
  inboxPrefix,
  MessagingRegistry,
  OutboxRelay,
  serveReplay,
  StreamOptions,
} from '@palisade/messaging';
import { EventStore, MigrationSet, outboxBacklog, verifyMigrated } from '@palisade/persistence';
import type { AnyDatabase } from '@palisade/persistence';
import { ReadinessRegistry } from '@palisade/observability';
import { sql } from 'kysely';
import { JetStreamClient, JetStreamManager, NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { SERVICE_DATABASE, SERVICE_LOGGER, SERVICE_RUNTIME_OPTIONS } from './tokens';
import { reportOutboxBacklog, runtimeMetrics } from './runtime.metrics';

export interface ServiceRuntimeOptions {
  context: ContextConstants;
  /** Every event type the service emits (its contract). */
  events: readonly EventDefinition[];
  migrations?: MigrationSet;
  databaseUrl: string;
  poolSize?: number;
  nats: { servers: string; user?: string; password?: string; tls?: NatsTlsFiles };
  stream?: StreamOptions;
  relay?: { batchSize?: number; pollIntervalMs?: number };
  /** The service's parsed configuration: what SERVICE_CONFIG resolves to inside its module. */
  config?: unknown;
}

/**
 * Everything one service needs on the backbone, started in order: a check that its schema is
 * migrated (`palisade migrate` does that, as the migration role, never the service), the NATS
 * connection (its own user), its event and dead-letter streams, the outbox relay and the replay
 * endpoint; registered for the JetStream transport; stopped in reverse order.
 */
@Injectable()
export class ServiceRuntime implements OnModuleInit, OnApplicationShutdown {
  readonly store: EventStore;
  private nats?: { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager };
  private relay?: OutboxRelay;
  private replay?: Subscription;
  private stopBacklogReport?: () => void;

  constructor(
    @Inject(SERVICE_RUNTIME_OPTIONS) readonly options: ServiceRuntimeOptions,
    @Inject(SERVICE_DATABASE) readonly db: AnyDatabase,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    private readonly messaging: MessagingRegistry,
    private readonly readiness: ReadinessRegistry,
  ) {
    this.store = new EventStore(options.context, options.events);
  }

  get context(): ContextConstants {
    return this.options.context;
  }

  get nc(): NatsConnection {
    if (!this.nats) throw new Error(`${this.context.context} is not connected to NATS yet`);
    return this.nats.nc;
  }

  async onModuleInit(): Promise<void> {
    const { context, options } = { context: this.options.context, options: this.options };
    await verifyMigrated(this.db, context.schema, options.migrations);
    const nc = await connectNats({
      servers: options.nats.servers,
      user: options.nats.user,
      password: options.nats.password,
      tls: options.nats.tls,
      name: `palisade-${context.context}`,
      inboxPrefix: inboxPrefix(context),
    });
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    this.nats = { nc, js, jsm };
    await ensureStream(jsm, contextStreamConfig(context, options.stream));
    await ensureStream(jsm, deadLetterStreamConfig(context, options.stream));

    const metrics = runtimeMetrics();
    this.relay = new OutboxRelay({
      db: this.db,
      databaseUrl: options.databaseUrl,
      schema: context.schema,
      stream: context.stream,
      nc,
      logger: this.logger,
      batchSize: options.relay?.batchSize,
      pollIntervalMs: options.relay?.pollIntervalMs,
      onPublished: (batch) => {
        metrics.published.inc({ service: context.context }, batch.length);
        const now = Date.now();
        for (const p of batch)
          metrics.publishLag.observe({ service: context.context }, (now - p.recordedAt) / 1000);
      },
    });
    await this.relay.start();
    const relay = this.relay;
    this.store.onCommitted((publications) => relay.committed(publications));
    this.replay = serveReplay(nc, context, this.db, this.logger);
    this.messaging.register(
      {
        context,
        nc,
        js,
        jsm,
        db: this.db,
        logger: this.logger,
        afterCommit: (trx) => this.store.afterCommit(trx),
      },
      options.events,
    );

    this.readiness.register({
      name: `${context.context}:postgres`,
      check: async () => {
        await sql`select 1`.execute(this.db);
        const backlog = await outboxBacklog(this.db);
        return { ok: true, detail: `outbox backlog ${backlog.unsequenced + backlog.unpublished}` };
      },
    });
    this.readiness.register({
      name: `${context.context}:nats`,
      check: async () => {
        if (nc.isClosed()) return { ok: false, detail: 'connection closed' };
        try {
          await nc.flush();
          return { ok: true, detail: nc.getServer() };
        } catch (error) {
          return { ok: false, detail: describeError(error) };
        }
      },
    });
    this.stopBacklogReport = reportOutboxBacklog(context.context, async () => {
      const backlog = await outboxBacklog(this.db);
      return backlog.unsequenced + backlog.unpublished;
    });
    this.logger.info({ stream: context.stream, schema: context.schema }, 'service runtime started');
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopBacklogReport?.();
    await this.relay?.stop();
    this.replay?.unsubscribe();
    this.messaging.unregister(this.context.context);
    await this.nats?.nc.drain().catch(() => undefined);
    await this.db.destroy();
  }
}
