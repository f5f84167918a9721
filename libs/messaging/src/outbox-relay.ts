import {
  AnyDatabase,
  findUnpublished,
  markPublishedThrough,
  publishedThrough,
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
 * How long the relay waits before writing its acknowledged watermark. After a crash, about this
 * much of acknowledged events is published again (and dropped by JetStream as repeats).
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

/** Committed publications held in memory, waiting for their turn; past this, they are re-read. */
const MAX_HELD = 8_192;

/**
 * Publishes committed events to JetStream in producer-sequence order, with Nats-Msg-Id = event
 * id, and records how far JetStream acknowledged them. One relay per service schema is leader (a
 * Postgres advisory lock on its own connection).
 *
 * Appends made outside a transaction are committed with their sequences; the leader's own come
 * to it in memory (`committed(publications)`) and are published without reading them back.
 * Everything else is read from Postgres: what callers' transactions appended, other replicas'
 * commits (they NOTIFY), a hole in what it holds (a reply that came late or never), what follows
 * a failed publish, and everything after the recorded watermark when it becomes leader. It also
 * polls as a fallback. A crash between publish and watermark re-publishes on restart and
 * JetStream drops the duplicate.
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
  /** Committed, sequenced events after `issuedThrough`, by sequence (may have holes). */
  private readonly held = new Map<number, Publication>();
  /** Every sequence up to this one has been handed to JetStream in this term. */
  private issuedThrough = 0;
  /** Postgres may hold sequenced events after `issuedThrough` that `held` lacks. */
  private stale = true;
  /** Resolves the drain's wait for acknowledgements when new work arrives. */
  private wake?: () => void;
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
   * Appended events were committed. With `publications` (an append outside a transaction): the
   * leader publishes them from memory. Without (a caller's transaction, whose events were
   * sequenced as it committed): the leader reads them. Another replica tells the leader with
   * a NOTIFY of its own (outside the writer's transaction, so commits are not serialized by it);
   * notifications are coalesced.
   */
  committed(publications?: readonly Publication[]): void {
    if (this.leader) {
      if (!publications || this.held.size + publications.length > MAX_HELD) this.stale = true;
      else this.hold(publications);
      this.wakeUp();
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

  /** There may be new work: wake a drain waiting for acknowledgements, or start one. */
  private wakeUp(): void {
    this.wake?.();
    void this.kick();
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
      if (this.leader) {
        // The fallback for a missed notification: look at Postgres again.
        this.stale = true;
        await this.kick();
      }
    } catch (error) {
      this.fail(error);
    }
    const interval = this.leader
      ? this.pollIntervalMs
      : Math.min(this.pollIntervalMs, this.options.electionIntervalMs ?? 1_000);
    this.schedule(this.failures ? this.retryDelay(interval) : interval);
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
      if (this.leader) {
        // Another replica committed: its events are only in Postgres.
        this.stale = true;
        this.wakeUp();
      } else {
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
    // Take over from the recorded watermark: what follows it may never have been published.
    const recorded = await publishedThrough(this.options.db);
    this.acknowledgedThrough = Math.max(this.acknowledgedThrough, recorded);
    this.recordedThrough = Math.max(this.recordedThrough, recorded);
    this.issuedThrough = this.acknowledgedThrough;
    this.held.clear();
    this.stale = true;
    this.leader = true;
    this.logger.info({ schema: this.options.schema }, 'outbox relay is leader');
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.leader = false;
    this.held.clear();
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
      this.schedule(this.retryDelay(this.pollIntervalMs));
    }
  }

  /**
   * Relays until nothing is left, with up to `depth` batches in flight: while earlier batches
   * await their acknowledgements, new work is issued as it arrives. Publishes leave in sequence
   * order on one connection; the acknowledged watermark only moves over an unbroken run of
   * acknowledged sequences, and whatever follows a failure is published again (JetStream drops
   * the repeats by Nats-Msg-Id).
   */
  private async drain(): Promise<void> {
    const inflight: Array<{ batch: Publication[]; acks: Promise<boolean[]> }> = [];
    // Once stopped, nothing new is issued, but what is in flight is settled: its watermark counts.
    while (this.leader && (this.running || inflight.length > 0)) {
      while (this.running && inflight.length < this.depth) {
        const batch = await this.next();
        if (batch.length === 0) break;
        inflight.push({ batch, acks: this.publish(batch) });
      }
      const head = inflight[0];
      if (!head) return;
      if (this.running && inflight.length < this.depth) {
        // Room for more: new work is issued at once rather than after the oldest batch's acks.
        const woken = new Promise<boolean>((resolve) => (this.wake = () => resolve(true)));
        const newWork = await Promise.race([head.acks.then(() => false), woken]);
        this.wake = undefined;
        if (newWork) continue;
      }
      inflight.shift();
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
      this.acknowledgedThrough = Math.max(this.acknowledgedThrough, through);
      this.published += acknowledged.length;
      this.options.onPublished?.(acknowledged);
      if (firstMissing !== -1) {
        await this.recordWatermark();
        // Later batches may be acknowledged too; they are re-read from the watermark and repeated.
        await Promise.allSettled(inflight.map((f) => f.acks));
        this.issuedThrough = this.acknowledgedThrough;
        this.stale = true;
        throw new Error(
          `${head.batch.length - acknowledged.length} of ${head.batch.length} events were not acknowledged by JetStream`,
        );
      }
      this.scheduleWatermark();
    }
  }

  /**
   * The next run of sequences after `issuedThrough`: from memory when it holds them; else read
   * from Postgres when it may have them, or when it holds a later one (the next must be there: a
   * sequence commits only after the one before it).
   */
  private async next(): Promise<Publication[]> {
    // Two reads at most: a commit told during the first may have left a hole it did not cover.
    for (let reads = 0; reads < 2; reads++) {
      const run = this.takeRun();
      if (run.length || !this.running || !this.leader) return run;
      if (!this.stale && this.held.size === 0) return [];
      this.stale = false;
      const rows = await findUnpublished(this.options.db, this.batchSize, this.issuedThrough);
      if (rows.length === this.batchSize) this.stale = true;
      this.hold(rows);
    }
    return this.takeRun();
  }

  /** Keeps the publications not yet issued, by sequence. */
  private hold(publications: readonly Publication[]): void {
    for (const p of publications) if (p.sequence > this.issuedThrough) this.held.set(p.sequence, p);
  }

  /** Takes the unbroken run of held sequences that follows `issuedThrough` (at most a batch). */
  private takeRun(): Publication[] {
    const run: Publication[] = [];
    while (run.length < this.batchSize) {
      const p = this.held.get(this.issuedThrough + 1);
      if (!p) break;
      this.held.delete(p.sequence);
      this.issuedThrough = p.sequence;
      run.push(p);
    }
    return run;
  }

  /** Writes the watermark at most every WATERMARK_DELAY_MS, busy or idle. */
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

  /** After `failures` failures in a row: 50 ms doubling (at most 3.2 s), never beyond `interval`. */
  private retryDelay(interval: number): number {
    return Math.min(interval, 50 * 2 ** Math.min(this.failures, 6));
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
