import { ContextConstants, deadLetterSubject, EventEnvelope, EventRegistry } from '@palisade/contracts';
import { AnyDatabase, claimEvents } from '@palisade/persistence';
import {
  AckPolicy,
  ConsumerConfig,
  ConsumerMessages,
  DeliverPolicy,
  headers,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
  nanos,
  NatsConnection,
} from 'nats';
import { DecodeError, decodeEnvelope, encodeEnvelope, subjectOf, validateEnvelope } from './codec';
import {
  EMPTY_GAP_STATE,
  GapState,
  loadGapState,
  missingRanges,
  recordApplied,
  saveGapState,
} from './gap-tracker';
import { describeError, MessagingLogger, silentLogger } from './logger';
import { requestReplay } from './replay';
import { isNotFound } from './streams';

/** What a handler gets besides the event: the transaction its effects must use. */
export interface EventHandlerContext {
  /** The consuming service's transaction; the inbox row for this event commits with it. */
  trx: AnyDatabase;
  /** 1 on first delivery; counts redeliveries. 0 for an event recovered by replay. */
  deliveryCount: number;
  /** The durable consumer's name. */
  consumer: string;
}

export type EventHandlerFn = (event: EventEnvelope, context: EventHandlerContext) => Promise<void>;
/** A handler for a whole micro-batch (set-based projections): the events are new, in stream order. */
export type BatchEventHandlerFn = (events: EventEnvelope[], context: EventHandlerContext) => Promise<void>;

export interface GapCheckOptions {
  /** Which producer's sequence to follow (the stream's context). */
  producer: string;
  /** How often to compare with the producer's head (default 5 s). */
  intervalMs?: number;
  /** How long a hole may stay open before it is replayed: out-of-order arrivals fill it themselves (default 250 ms). */
  graceMs?: number;
  replayTimeoutMs?: number;
}

export interface DurableConsumerOptions {
  /** The service that owns the consumer: its database holds the inbox, its DLQ stream the poison. */
  owner: ContextConstants;
  /** Durable consumer name, unique in the stream: `<service>-<purpose>`. */
  durable: string;
  stream: string;
  filterSubject: string;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  db: AnyDatabase;
  registry: EventRegistry;
  /** Exactly one of handle / handleBatch. */
  handle?: EventHandlerFn;
  handleBatch?: BatchEventHandlerFn;
  /** Per-handler conversion (upcasting, narrowing); throw DecodeError to dead-letter the event. */
  prepare?: (envelope: EventEnvelope) => EventEnvelope;
  /** Reject event types the registry does not know (default true). */
  requireKnownType?: boolean;
  /** Deliveries before a failing event goes to the dead-letter stream (default 5). */
  maxDeliver?: number;
  ackWaitMs?: number;
  /** Most events applied in one transaction (default 128). */
  batchSize?: number;
  /** Delay before redelivering a failed event (default 100 ms × 2^(n-1), at most 10 s). */
  retryDelayMs?: (deliveryCount: number) => number;
  gapCheck?: GapCheckOptions;
  logger?: MessagingLogger;
  /** Called after each committed batch with the events it applied (metrics, benchmarks). */
  onApplied?: (events: readonly EventEnvelope[]) => void;
  /** Called with each committed transaction (handlers may have appended events: wake the relay). */
  afterCommit?: (trx: AnyDatabase) => void;
  onDeadLetter?: (reason: string, code: string) => void;
}

interface Item {
  envelope: EventEnvelope;
  msg?: JsMsg;
}

const defaultRetryDelay = (n: number) => Math.min(10_000, 100 * 2 ** Math.max(0, n - 1));

/**
 * A durable pull consumer with explicit ack. Events are applied in micro-batches, each in one
 * Postgres transaction with inbox rows keyed by event id (exactly-once effects); when a batch
 * fails, its events are retried one by one so that one poison event cannot hold the others.
 * A failing event is redelivered with backoff up to `maxDeliver` times, then dead-lettered.
 */
export class DurableConsumer {
  private readonly logger: MessagingLogger;
  private readonly maxDeliver: number;
  private readonly batchSize: number;
  private messages?: ConsumerMessages;
  private queue: JsMsg[] = [];
  private processing?: Promise<void>;
  private running = false;
  private gapState: GapState = EMPTY_GAP_STATE;
  private gapTimer?: NodeJS.Timeout;
  private lastHead = 0;
  private replayFailures = new Map<string, number>();
  private gapCheckFailing = false;
  private applied = 0;
  private deadLettered = 0;
  private lastError?: string;
  /** Batches and gap checks share the gap state: they run one at a time. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: DurableConsumerOptions) {
    if (!options.handle === !options.handleBatch)
      throw new Error(`consumer ${options.durable} needs exactly one of handle and handleBatch`);
    this.logger = options.logger ?? silentLogger;
    this.maxDeliver = options.maxDeliver ?? 5;
    this.batchSize = options.batchSize ?? 128;
  }

  get name(): string {
    return this.options.durable;
  }

  /** The service that owns it. */
  get owner(): string {
    return this.options.owner.context;
  }

  get stream(): string {
    return this.options.stream;
  }

  /** JetStream's view of its lag: messages not yet delivered, and delivered but not acknowledged. */
  async pending(): Promise<{ pending: number; ackPending: number }> {
    const info = await this.options.jsm.consumers.info(this.options.stream, this.options.durable);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  }

  status() {
    return {
      running: this.running,
      applied: this.applied,
      deadLettered: this.deadLettered,
      queued: this.queue.length,
      lastError: this.lastError,
    };
  }

  /** The JetStream consumer configuration (durable, explicit ack, bounded deliveries). */
  config(): Partial<ConsumerConfig> & { durable_name: string } {
    return {
      durable_name: this.options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.options.filterSubject,
      ack_wait: nanos(this.options.ackWaitMs ?? 30_000),
      // Head-room above our own bound, so that a dead-letter publish that fails can be retried.
      max_deliver: this.maxDeliver + 3,
      max_ack_pending: this.batchSize * 8,
    };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.ensureConsumer();
    if (this.options.gapCheck) {
      this.gapState = await loadGapState(
        this.options.db,
        this.options.durable,
        this.options.gapCheck.producer,
      );
      this.scheduleGapCheck();
    }
    const consumer = await this.options.js.consumers.get(this.options.stream, this.options.durable);
    this.messages = await consumer.consume({
      max_messages: this.batchSize * 2,
      callback: (msg) => {
        this.queue.push(msg);
        this.drain();
      },
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    await this.messages?.close().catch(() => undefined);
    await this.processing;
    // Unprocessed messages are not acked: JetStream redelivers them to the next instance.
    this.queue = [];
  }

  private async ensureConsumer(): Promise<void> {
    const { jsm, stream } = this.options;
    const config = this.config();
    try {
      await jsm.consumers.info(stream, config.durable_name);
      await jsm.consumers.update(stream, config.durable_name, config);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await jsm.consumers.add(stream, config);
    }
  }

  private drain(): void {
    if (this.processing || !this.running) return;
    this.processing = this.loop().finally(() => {
      this.processing = undefined;
      if (this.queue.length && this.running) this.drain();
    });
  }

  private async loop(): Promise<void> {
    while (this.running && this.queue.length) {
      const batch = this.queue.splice(0, this.batchSize);
      try {
        await this.serial(() => this.processBatch(batch));
      } catch (error) {
        // Never let the loop die: whatever was not settled is redelivered after ack_wait.
        this.lastError = describeError(error);
        this.logger.error({ consumer: this.name, err: this.lastError }, 'consumer batch failed');
      }
    }
  }

  private decode(msg: JsMsg): EventEnvelope {
    const envelope = decodeEnvelope(msg.subject, msg.data, this.options.registry, {
      requireKnownType: this.options.requireKnownType ?? true,
    });
    return this.options.prepare ? this.options.prepare(envelope) : envelope;
  }

  private async processBatch(msgs: JsMsg[]): Promise<void> {
    const items: Item[] = [];
    for (const msg of msgs) {
      try {
        items.push({ msg, envelope: this.decode(msg) });
      } catch (error) {
        const code = error instanceof DecodeError ? error.code : 'decode_failed';
        await this.deadLetter(msg, code, describeError(error));
      }
    }
    if (items.length === 0) return;
    try {
      await this.apply(items);
      for (const item of items) item.msg!.ack();
      return;
    } catch (error) {
      if (items.length === 1) return this.retryOrDeadLetter(items[0].msg!, error);
    }
    for (const item of items) {
      try {
        await this.apply([item]);
        item.msg!.ack();
      } catch (error) {
        await this.retryOrDeadLetter(item.msg!, error);
      }
    }
  }

  /** Applies events in one transaction: inbox claim, handler effects, gap bookkeeping. */
  private async apply(items: readonly Item[]): Promise<void> {
    const { db, durable, gapCheck } = this.options;
    const before = this.gapState;
    const after = gapCheck
      ? recordApplied(
          before,
          items.map((i) => i.envelope.sequence),
        )
      : before;
    const appliedNow: EventEnvelope[] = [];
    let transaction: AnyDatabase | undefined;
    await db.transaction().execute(async (trx) => {
      transaction = trx;
      const fresh = await claimEvents(
        trx,
        durable,
        items.map((i) => i.envelope.id),
      );
      // `delete`: a second copy of the same event in this batch is not applied again.
      const news = items.filter((item) => fresh.delete(item.envelope.id));
      if (this.options.handleBatch) {
        if (news.length) {
          await this.options.handleBatch(
            news.map((item) => item.envelope),
            {
              trx,
              deliveryCount: Math.max(0, ...news.map((item) => item.msg?.info.deliveryCount ?? 0)),
              consumer: durable,
            },
          );
        }
      } else {
        for (const item of news) {
          await this.options.handle!(item.envelope, {
            trx,
            deliveryCount: item.msg?.info.deliveryCount ?? 0,
            consumer: durable,
          });
        }
      }
      appliedNow.push(...news.map((item) => item.envelope));
      if (gapCheck) await saveGapState(trx, durable, gapCheck.producer, before, after);
    });
    this.options.afterCommit?.(transaction!);
    this.gapState = after;
    this.applied += appliedNow.length;
    if (appliedNow.length) this.options.onApplied?.(appliedNow);
    if (gapCheck && after.above.size && !before.above.size) this.scheduleGapCheck(gapCheck.graceMs ?? 250);
  }

  private async retryOrDeadLetter(msg: JsMsg, error: unknown): Promise<void> {
    const count = msg.info.deliveryCount;
    this.lastError = describeError(error);
    if (count >= this.maxDeliver) {
      await this.deadLetter(msg, 'handler_failed', this.lastError);
      return;
    }
    this.logger.warn(
      { consumer: this.name, deliveryCount: count, err: this.lastError },
      'event handler failed; will redeliver',
    );
    msg.nak((this.options.retryDelayMs ?? defaultRetryDelay)(count));
  }

  /** Moves a message to DLQ_<SERVICE> with the reason, then terminates it in the source stream. */
  private async deadLetter(msg: JsMsg, code: string, reason: string): Promise<void> {
    const h = headers();
    h.set('Palisade-Dlq-Code', code);
    h.set('Palisade-Dlq-Reason', reason.replace(/[\r\n]+/g, ' ').slice(0, 500));
    h.set('Palisade-Dlq-Consumer', this.name);
    h.set('Palisade-Dlq-Stream', msg.info.stream);
    h.set('Palisade-Dlq-Stream-Sequence', String(msg.info.streamSequence));
    h.set('Palisade-Dlq-Subject', msg.subject);
    h.set('Palisade-Dlq-Deliveries', String(msg.info.deliveryCount));
    try {
      await this.options.js.publish(deadLetterSubject(this.options.owner.context, this.name), msg.data, {
        headers: h,
        msgID: `${this.name}:${msg.info.stream}:${msg.info.streamSequence}`,
        expect: { streamName: this.options.owner.deadLetterStream },
      });
      msg.term();
      this.deadLettered++;
      this.options.onDeadLetter?.(reason, code);
      this.logger.warn(
        { consumer: this.name, code, reason, streamSequence: msg.info.streamSequence },
        'event dead-lettered',
      );
    } catch (error) {
      this.logger.error(
        { consumer: this.name, err: describeError(error) },
        'dead-letter publish failed; will redeliver',
      );
      msg.nak(1_000);
    }
  }

  private scheduleGapCheck(delayMs = this.options.gapCheck?.intervalMs ?? 5_000): void {
    if (!this.running || !this.options.gapCheck) return;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = setTimeout(() => {
      void this.checkGaps().finally(() => this.scheduleGapCheck());
    }, delayMs);
    this.gapTimer.unref?.();
  }

  /**
   * Replays what the producer has sequenced but this consumer has not applied: holes below the
   * highest applied sequence, and the tail up to the head seen at the previous check (so events
   * still in flight on the stream are left to arrive by themselves).
   */
  checkGaps(): Promise<number> {
    return this.serial(() => this.recoverGaps());
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async recoverGaps(): Promise<number> {
    const gapCheck = this.options.gapCheck;
    if (!gapCheck || !this.running) return 0;
    let recovered = 0;
    try {
      const highest = Math.max(this.gapState.watermark, ...this.gapState.above);
      const upTo = Math.max(highest, this.lastHead);
      for (const [from, to] of missingRanges(this.gapState, upTo)) {
        for (let start = from; start <= to;) {
          const { events, head } = await requestReplay(
            this.options.nc,
            gapCheck.producer,
            { from: start, to },
            gapCheck.replayTimeoutMs,
          );
          this.lastHead = Math.max(this.lastHead, head);
          if (events.length === 0) break;
          recovered += await this.applyReplayed(events);
          start = (events[events.length - 1] as { sequence: number }).sequence + 1;
        }
      }
      // Learn the head for the next round.
      const { head } = await requestReplay(
        this.options.nc,
        gapCheck.producer,
        { from: Math.max(1, upTo + 1), limit: 1 },
        gapCheck.replayTimeoutMs,
      );
      this.lastHead = Math.max(this.lastHead, head);
      if (this.gapCheckFailing) {
        this.gapCheckFailing = false;
        this.logger.info({ consumer: this.name }, 'gap check works again');
      }
    } catch (error) {
      this.lastError = describeError(error);
      // Said once when it starts failing (a producer that is not running fails every round).
      if (!this.gapCheckFailing)
        this.logger.warn(
          { consumer: this.name, err: this.lastError },
          'gap check failed; retrying quietly until it works again',
        );
      this.gapCheckFailing = true;
    }
    if (recovered)
      this.logger.warn({ consumer: this.name, recovered }, 'recovered events the transport lost');
    return recovered;
  }

  private async applyReplayed(raw: readonly unknown[]): Promise<number> {
    let recovered = 0;
    for (const value of raw) {
      let envelope: EventEnvelope;
      try {
        envelope = validateEnvelope(subjectOf(value as EventEnvelope), value, this.options.registry, {
          requireKnownType: this.options.requireKnownType ?? true,
        });
        if (this.gapState.above.has(envelope.sequence) || envelope.sequence <= this.gapState.watermark)
          continue;
        envelope = this.options.prepare ? this.options.prepare(envelope) : envelope;
      } catch (error) {
        this.logger.error(
          { consumer: this.name, err: describeError(error) },
          'replayed event is invalid; skipped',
        );
        continue;
      }
      try {
        await this.apply([{ envelope }]);
        recovered++;
      } catch (error) {
        const failures = (this.replayFailures.get(envelope.id) ?? 0) + 1;
        this.replayFailures.set(envelope.id, failures);
        if (failures < this.maxDeliver) throw error;
        await this.deadLetterReplayed(envelope, describeError(error));
      }
    }
    return recovered;
  }

  /** A replayed event that keeps failing: dead-letter it and count it as handled. */
  private async deadLetterReplayed(envelope: EventEnvelope, reason: string): Promise<void> {
    const h = headers();
    h.set('Palisade-Dlq-Code', 'handler_failed');
    h.set('Palisade-Dlq-Reason', reason.replace(/[\r\n]+/g, ' ').slice(0, 500));
    h.set('Palisade-Dlq-Consumer', this.name);
    h.set('Palisade-Dlq-Subject', subjectOf(envelope));
    await this.options.js.publish(
      deadLetterSubject(this.options.owner.context, this.name),
      encodeEnvelope(envelope),
      {
        headers: h,
        msgID: `${this.name}:replay:${envelope.id}`,
        expect: { streamName: this.options.owner.deadLetterStream },
      },
    );
    const before = this.gapState;
    const after = recordApplied(before, [envelope.sequence]);
    await this.options.db.transaction().execute(async (trx) => {
      await claimEvents(trx, this.name, [envelope.id]);
      await saveGapState(trx, this.name, this.options.gapCheck!.producer, before, after);
    });
    this.gapState = after;
    this.replayFailures.delete(envelope.id);
    this.deadLettered++;
  }
}
