import {
  AnyDatabase,
  assignSequences,
  findUnpublished,
  markPublishedThrough,
  outboxChannel,
  Publication,
} from '@palisade/persistence';
import { NatsConnection } from 'nats';
import { sql } from 'kysely';
import { Client } from 'pg';
import { publicationHeaders } from './codec';
import { JetStreamPublisher } from './jetstream-publisher';
import { describeError, MessagingLogger, silentLogger } from './logger';

const encoder = new TextEncoder();

/**
 * How long an idle relay waits before writing its acknowledged watermark. After a crash, at most
 * this much of acknowledged events is published again (and dropped by JetStream as repeats).
 */
const WATERMARK_DELAY_MS = 100;

export interface OutboxRelayOptions {
  db: AnyDatabase;
  /** For the relay's own connection: it holds the leader lock and LISTENs for new rows. */
  databaseUrl: string;
  schema: string;
  /** The stream every row of this outbox belongs to (publishes are checked against it). */
  stream: string;
  nc: NatsConnection;
  logger?: MessagingLogger;
  batchSize?: number;
  /** Batches published at once, awaiting acknowledgement (default 4). */
  pipelineDepth?: number;
  /** Safety net when a notification is missed (default 1 s). */
  pollIntervalMs?: number;
  /** How often a relay that is not leader tries to become it (default 1 s). */
  electionIntervalMs?: number;
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
 * connection); it wakes when a local transaction commits (`committed()`), on LISTEN/NOTIFY from
 * other replicas, and polls as a fallback. A crash between publish and
 * mark re-publishes on restart and JetStream drops the duplicate.
 */
export class OutboxRelay {
  private readonly logger: MessagingLogger;
  private readonly batchSize: number;
  private readonly depth: number;
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
  private notifying?: Promise<void>;
  private watermarkTimer?: NodeJS.Timeout;
  /** Highest sequence such that it and all before it are acknowledged by JetStream. */
  private acknowledgedThrough = 0;
  /** The watermark as last written to relay_state. */
  private recordedThrough = 0;
  private notifyAgain = false;
  private readonly publisher: JetStreamPublisher;

  constructor(private readonly options: OutboxRelayOptions) {
    this.logger = options.logger ?? silentLogger;
    this.publisher = new JetStreamPublisher(options.nc, options.publishTimeoutMs ?? 5_000);
    this.batchSize = options.batchSize ?? 256;
    this.depth = options.pipelineDepth ?? 4;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
  }

  status(): OutboxRelayStatus {
    return {
      running: this.running,
      leader: this.leader,
      published: this.published,
      lastError: this.lastError,
    };
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
    if (this.watermarkTimer) clearTimeout(this.watermarkTimer);
    this.watermarkTimer = undefined;
    await this.recordWatermark().catch((error) => this.fail(error));
    const wasLeader = this.leader;
    this.publisher.close();
    await this.disconnect();
    // Hand over at once: the other replicas LISTEN and try to take the lock when told.
    if (wasLeader)
      await sql`select pg_notify(${outboxChannel(this.options.schema)}, 'leader-left')`
        .execute(this.options.db)
        .catch(() => undefined);
  }

  /**
   * A transaction that appended events has committed: the leader relays at once; another
   * replica tells the leader with a NOTIFY of its own (outside the writer's transaction, so
   * commits are not serialized by it). Notifications are coalesced.
   */
  committed(): void {
    if (this.leader) {
      void this.kick();
      return;
    }
    if (this.notifying) {
      this.notifyAgain = true;
      return;
    }
    this.notifying = sql`select pg_notify(${outboxChannel(this.options.schema)}, '')`
      .execute(this.options.db)
      .then(
        () => undefined,
        (error) => this.fail(error),
      )
      .finally(() => {
        this.notifying = undefined;
        if (this.notifyAgain) {
          this.notifyAgain = false;
          this.committed();
        }
      });
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
    const interval = this.leader
      ? this.pollIntervalMs
      : Math.min(this.pollIntervalMs, this.options.electionIntervalMs ?? 1_000);
    this.schedule(this.failures ? Math.min(interval, 50 * 2 ** Math.min(this.failures, 6)) : interval);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.options.databaseUrl,
      application_name: `palisade-relay-${this.options.schema}`,
    });
    client.on('error', (error) => {
      this.fail(error);
      void this.disconnect();
    });
    client.on('notification', () => {
      if (this.leader) void this.kick();
      else {
        this.elect().then(
          () => (this.leader ? this.kick() : undefined),
          (error) => this.fail(error),
        );
      }
    });
    await client.connect();
    this.client = client;
    await client.query(`listen "${outboxChannel(this.options.schema)}"`);
    await this.elect();
  }

  private async elect(): Promise<void> {
    const client = this.client;
    if (!client || this.leader) return;
    const { rows } = await client.query<{ locked: boolean }>(
      'select pg_try_advisory_lock(hashtext($1)) as locked',
      [outboxChannel(this.options.schema)],
    );
    if (!rows[0].locked) return;
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
        await this.drain();
      } while (this.again && this.running && this.leader);
      this.failures = 0;
    } catch (error) {
      this.fail(error);
      this.schedule(Math.min(this.pollIntervalMs, 50 * 2 ** Math.min(this.failures, 6)));
    }
  }

  /**
   * Relays until the outbox is empty, with up to `depth` batches in flight: the next batch is
   * sequenced and its publishes issued while earlier ones await their acknowledgements. Publishes
   * leave in sequence order on one connection; the published watermark only moves over an
   * unbroken run of acknowledged sequences, and whatever follows a failure is published again
   * (JetStream drops the repeats by Nats-Msg-Id).
   */
  private async drain(): Promise<void> {
    const { db } = this.options;
    const inflight: Array<{ batch: Publication[]; acks: Promise<boolean[]> }> = [];
    let exhausted = false;
    while (this.running && this.leader) {
      while (!exhausted && inflight.length < this.depth) {
        // A commit announced from here on may be missing from this batch: `again` says so.
        this.again = false;
        let batch: Publication[];
        if (this.recovering) {
          const issuedThrough = inflight.length ? inflight[inflight.length - 1].batch.at(-1)!.sequence : 0;
          batch = await findUnpublished(
            db,
            this.batchSize,
            Math.max(this.acknowledgedThrough, issuedThrough),
          );
          if (batch.length < this.batchSize) this.recovering = false;
        } else {
          batch = await assignSequences(db, this.batchSize, this.acknowledgedThrough);
          this.recordedThrough = Math.max(this.recordedThrough, this.acknowledgedThrough);
          // A short batch took everything committed before it; no need to ask again until told.
          if (batch.length < this.batchSize && !this.again) exhausted = true;
        }
        if (batch.length > 0) inflight.push({ batch, acks: this.publish(batch) });
      }
      const head = inflight.shift();
      if (!head) {
        this.scheduleWatermark();
        return;
      }
      const acked = await head.acks;
      const acknowledged = head.batch.filter((_, i) => acked[i]);
      await this.options.afterPublish?.(acknowledged);
      const firstMissing = acked.indexOf(false);
      const through =
        firstMissing === -1
          ? head.batch[head.batch.length - 1].sequence
          : firstMissing > 0
            ? head.batch[firstMissing - 1].sequence
            : 0;
      // The watermark rides along with the next assignment; it is written on its own only when
      // the relay goes idle or hits a failure. Lagging is safe: past it, events are re-published.
      this.acknowledgedThrough = Math.max(this.acknowledgedThrough, through);
      this.published += acknowledged.length;
      this.options.onPublished?.(acknowledged);
      if (firstMissing !== -1) {
        await this.recordWatermark();
        this.recovering = true;
        // Later batches may be acknowledged too; they are re-read from the watermark and repeated.
        await Promise.allSettled(inflight.map((f) => f.acks));
        throw new Error(
          `${head.batch.length - acknowledged.length} of ${head.batch.length} events were not acknowledged by JetStream`,
        );
      }
      // New commits were announced: keep the pipeline full instead of draining it first.
      if (exhausted && this.again) {
        this.again = false;
        exhausted = false;
      }
    }
  }

  /** Writes the watermark soon when the relay is idle (a busy relay writes it with each assignment). */
  private scheduleWatermark(): void {
    if (this.watermarkTimer || this.acknowledgedThrough <= this.recordedThrough) return;
    this.watermarkTimer = setTimeout(() => {
      this.watermarkTimer = undefined;
      this.recordWatermark().catch((error) => this.fail(error));
    }, WATERMARK_DELAY_MS);
    this.watermarkTimer.unref?.();
  }

  private async recordWatermark(): Promise<void> {
    if (this.acknowledgedThrough <= this.recordedThrough) return;
    const through = this.acknowledgedThrough;
    await markPublishedThrough(this.options.db, through);
    this.recordedThrough = Math.max(this.recordedThrough, through);
  }

  /** Issues the publishes of a batch (in order) and resolves with which were acknowledged. */
  private publish(batch: readonly Publication[]): Promise<boolean[]> {
    const { stream } = this.options;
    return Promise.all(
      batch.map((p) =>
        this.publisher
          .publish(p.subject, encoder.encode(p.json), {
            msgID: p.eventId,
            stream,
            headers: publicationHeaders(p),
          })
          .then(
            () => true,
            (error: unknown) => {
              this.lastError = describeError(error);
              return false;
            },
          ),
      ),
    );
  }

  private fail(error: unknown): void {
    this.failures++;
    this.lastError = describeError(error);
    this.logger.warn(
      { schema: this.options.schema, err: this.lastError, failures: this.failures },
      'outbox relay will retry',
    );
  }
}
