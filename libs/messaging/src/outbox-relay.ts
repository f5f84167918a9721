import {
  AnyDatabase,
  assignSequences,
  findUnpublished,
  markPublished,
  outboxChannel,
  Publication,
} from '@palisade/persistence';
import { JetStreamClient } from 'nats';
import { Client } from 'pg';
import { encodeEnvelope, envelopeHeaders } from './codec';
import { describeError, MessagingLogger, silentLogger } from './logger';

export interface OutboxRelayOptions {
  db: AnyDatabase;
  /** For the relay's own connection: it holds the leader lock and LISTENs for new rows. */
  databaseUrl: string;
  schema: string;
  /** The stream every row of this outbox belongs to (publishes are checked against it). */
  stream: string;
  js: JetStreamClient;
  logger?: MessagingLogger;
  batchSize?: number;
  /** Safety net when a notification is missed (default 1 s). */
  pollIntervalMs?: number;
  publishTimeoutMs?: number;
  /** Called after a batch is acknowledged by JetStream and before it is marked published. */
  afterPublish?: (publications: readonly Publication[]) => void | Promise<void>;
  /** Called for every acknowledged batch (metrics). */
  onPublished?: (publications: readonly Publication[]) => void;
}

export interface OutboxRelayStatus {
  running: boolean;
  leader: boolean;
  published: number;
  lastError?: string;
}

/**
 * Publishes committed outbox rows to JetStream with Nats-Msg-Id = event id, then marks them
 * published. One relay per service schema is leader (a Postgres advisory lock on its own
 * connection); it wakes on LISTEN/NOTIFY and polls as a fallback. A crash between publish and
 * mark re-publishes on restart and JetStream drops the duplicate.
 */
export class OutboxRelay {
  private readonly logger: MessagingLogger;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private client?: Client;
  private timer?: NodeJS.Timeout;
  private running = false;
  private leader = false;
  private pumping?: Promise<void>;
  private again = false;
  /** Rows may be sequenced but unpublished (start-up, or after a failed publish). */
  private recovering = true;
  private published = 0;
  private lastError?: string;
  private failures = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.logger = options.logger ?? silentLogger;
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
  }

  status(): OutboxRelayStatus {
    return { running: this.running, leader: this.leader, published: this.published, lastError: this.lastError };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.connect().catch((error) => this.fail(error));
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.pumping;
    await this.disconnect();
  }

  /** Relay now (also what a notification does). Resolves when the outbox was drained once. */
  kick(): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.tick();
    }, delayMs);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    try {
      if (!this.client) await this.connect();
      if (!this.leader) await this.elect();
      if (this.leader) await this.kick();
    } catch (error) {
      this.fail(error);
    }
    const backoff = this.failures ? Math.min(this.pollIntervalMs, 50 * 2 ** Math.min(this.failures, 6)) : this.pollIntervalMs;
    this.schedule(backoff);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.options.databaseUrl, application_name: `palisade-relay-${this.options.schema}` });
    client.on('error', (error) => {
      this.fail(error);
      void this.disconnect();
    });
    client.on('notification', () => {
      if (this.leader) void this.kick();
    });
    await client.connect();
    this.client = client;
    await this.elect();
  }

  private async elect(): Promise<void> {
    const client = this.client;
    if (!client || this.leader) return;
    const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtext($1)) as locked', [
      outboxChannel(this.options.schema),
    ]);
    if (!rows[0].locked) return;
    await client.query(`listen "${outboxChannel(this.options.schema)}"`);
    this.leader = true;
    this.recovering = true;
    this.logger.info({ schema: this.options.schema }, 'outbox relay is leader');
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.leader = false;
    // Closing the session releases the advisory lock for another relay.
    await client?.end().catch(() => undefined);
  }

  private async pump(): Promise<void> {
    try {
      do {
        this.again = false;
        while (this.running && this.leader && (await this.relayBatch()) > 0) {
          /* drain */
        }
      } while (this.again && this.running && this.leader);
      this.failures = 0;
    } catch (error) {
      this.fail(error);
      this.schedule(Math.min(this.pollIntervalMs, 50 * 2 ** Math.min(this.failures, 6)));
    }
  }

  private async relayBatch(): Promise<number> {
    const { db } = this.options;
    let batch = this.recovering ? await findUnpublished(db, this.batchSize) : [];
    if (batch.length === 0) {
      this.recovering = false;
      batch = await assignSequences(db, this.batchSize);
    }
    if (batch.length === 0) return 0;
    const acknowledged = await this.publish(batch);
    await this.options.afterPublish?.(acknowledged);
    await markPublished(
      db,
      acknowledged.map((p) => p.sequence),
    );
    this.published += acknowledged.length;
    this.options.onPublished?.(acknowledged);
    if (acknowledged.length < batch.length) {
      this.recovering = true;
      throw new Error(`${batch.length - acknowledged.length} of ${batch.length} events were not acknowledged by JetStream`);
    }
    return batch.length;
  }

  /** Publishes in sequence order on one connection (pipelined); returns the acknowledged ones. */
  private async publish(batch: readonly Publication[]): Promise<Publication[]> {
    const { js, stream } = this.options;
    const timeout = this.options.publishTimeoutMs ?? 5_000;
    const results = await Promise.allSettled(
      batch.map((p) =>
        js.publish(p.subject, encodeEnvelope(p.envelope), {
          msgID: p.envelope.id,
          headers: envelopeHeaders(p.envelope),
          expect: { streamName: stream },
          timeout,
        }),
      ),
    );
    const acknowledged: Publication[] = [];
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') acknowledged.push(batch[i]);
      else this.lastError = describeError(result.reason);
    });
    return acknowledged;
  }

  private fail(error: unknown): void {
    this.failures++;
    this.lastError = describeError(error);
    this.logger.warn({ schema: this.options.schema, err: this.lastError, failures: this.failures }, 'outbox relay will retry');
  }
}
