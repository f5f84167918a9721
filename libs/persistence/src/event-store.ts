import {
  ContextConstants,
  EventDefinition,
  EventRegistry,
  InvalidEventPayloadError,
  UnsequencedEnvelope,
  formatIssues,
} from '@palisade/contracts';
import { sql } from 'kysely';
import { AnyDatabase, asPersistence, PREPARED } from './database';
import { v7 as uuidv7 } from 'uuid';
import type { DomainEvent } from '@palisade/domain';
import { ConcurrencyConflictError } from './errors';
import { MicroBatcher } from './micro-batcher';
import { Publication, withSequence } from './outbox.repository';

/** A domain event: `{ type: '<entity>.<verb>', data }` (defined with the decider in @palisade/domain). */
export type { DomainEvent } from '@palisade/domain';

/** Who and what caused an append; copied into every event's envelope. */
export interface EventMetadata {
  /** Owning organization id (or SYSTEM_ORG). */
  orgId: string;
  /** `user:<id>`, `service:<name>`, `token:<id>` or `system`. */
  actor: string;
  /** Ties together everything one request caused; defaults to the first event's id. */
  correlationId?: string;
  /** The event or request that caused this one. */
  causationId?: string;
  /** W3C traceparent of the causing request. */
  traceparent?: string;
}

/** `number`: the stream must be exactly at this version (0 = it must not exist yet). */
export type ExpectedVersion = number | 'any';

export interface AppendRequest<E extends DomainEvent = DomainEvent> {
  streamId: string;
  expectedVersion: ExpectedVersion;
  events: readonly E[];
  metadata: EventMetadata;
  /** The CloudEvents `subject` (the aggregate); defaults to the stream id. */
  subject?: string;
}

export interface StoredEvent<E extends DomainEvent = DomainEvent> {
  streamId: string;
  version: number;
  event: E;
  envelope: UnsequencedEnvelope;
}

type Db = AnyDatabase;

interface StreamRow {
  version: number;
  envelope: Record<string, unknown>;
}

interface PreparedAppend {
  request: AppendRequest;
  envelopes: UnsequencedEnvelope[];
  subjects: string[];
  /** The envelopes as JSON text: what `events` stores, and (with `sequence`) what is published. */
  texts: string[];
}

/** What one append statement did: the stream's version before it, and its events' first sequence. */
interface Appended {
  before: number;
  /** Outside a transaction: the producer sequence of the append's first event. */
  firstSequence?: number;
}

/**
 * Takes the next producer sequences for the rows of `inserted` (none when nothing was inserted):
 * `counter.base` is the sequence before the first. The counter row stays locked until the
 * statement's own commit, so sequences commit in order and none is ever skipped: a rolled-back
 * statement takes its numbers back with it. Streams are locked first (the count needs `inserted`),
 * so whoever holds the counter waits for nothing but its commit.
 */
const TAKE_SEQUENCES = sql`counter as (
  update relay_state set last_sequence = last_sequence + (select count(*) from inserted)
  where exists (select 1 from inserted)
  returning last_sequence - (select count(*) from inserted) as base
)`;

/** The publications of an append committed with its sequences, the first being `first`. */
function publications(prepared: PreparedAppend, first: number, recordedAt: number): Publication[] {
  return prepared.envelopes.map((envelope, i) => ({
    sequence: first + i,
    subject: prepared.subjects[i],
    eventId: envelope.id,
    type: envelope.type,
    traceparent: envelope.traceparent,
    recordedAt,
    json: withSequence(prepared.texts[i], first + i),
  }));
}

/** Told when appended events are committed: with their publications when they are already sequenced. */
export type CommittedListener = (publications?: readonly Publication[]) => void;

const MAX_STREAM_ID = 256;

/**
 * The service's event store: append with optimistic concurrency into `events`. Payloads are
 * validated against their contract. Every event gets a gap-free producer sequence:
 *
 * - outside a transaction, the append statement takes the next sequences itself (it locks the
 *   counter in `relay_state` after its streams, until its commit a moment later): commit order is
 *   sequence order, and the committed events go straight to the relay (`onCommitted`) to publish;
 * - inside a caller's transaction, which may run on for a while, holding the counter would stall
 *   every writer of the service: the events get an `outbox` row instead, which a deferred
 *   trigger sequences as that transaction commits (migration
 *   202611301700_persistence_sequence_at_commit); `afterCommit` then tells the relay to read them.
 */
export class EventStore {
  /** The newest definition of each domain event name: what new events are written as. */
  private readonly definitions = new Map<string, EventDefinition>();
  private readonly registry: EventRegistry;
  /** Transactions that appended; after they commit, the relay is told (see afterCommit). */
  private readonly appendedIn = new WeakSet<object>();
  private committedListener?: CommittedListener;
  /** Group commit of appends made outside a transaction, per database. */
  private readonly batchers = new WeakMap<object, MicroBatcher<PreparedAppend, Appended>>();
  private readonly loaders = new WeakMap<object, MicroBatcher<string, StreamRow[]>>();

  constructor(
    readonly context: ContextConstants,
    definitions: readonly EventDefinition[],
  ) {
    for (const definition of definitions) {
      if (definition.context !== context.context) {
        throw new Error(`${definition.type} does not belong to the ${context.context} context`);
      }
      const current = this.definitions.get(definition.name);
      // Domain events are written in the newest version of their contract.
      if (!current || current.version < definition.version) this.definitions.set(definition.name, definition);
    }
    this.registry = new EventRegistry(definitions);
  }

  /** Builds the envelopes for `events` (validating each payload) without writing anything. */
  envelopes(request: AppendRequest): UnsequencedEnvelope[] {
    const time = new Date().toISOString();
    let correlationId = request.metadata.correlationId;
    return request.events.map((event) => {
      const definition = this.definitions.get(event.type);
      if (!definition) throw new Error(`the ${this.context.context} context has no event "${event.type}"`);
      const parsed = definition.data.safeParse(event.data);
      if (!parsed.success) throw new InvalidEventPayloadError(definition.type, formatIssues(parsed.error));
      const id = uuidv7();
      correlationId ??= id;
      const envelope: UnsequencedEnvelope = {
        specversion: '1.0',
        id,
        source: this.context.source,
        type: definition.type,
        subject: request.subject ?? request.streamId,
        time,
        datacontenttype: 'application/json',
        data: parsed.data,
        orgid: request.metadata.orgId,
        actor: request.metadata.actor,
        correlationid: correlationId,
      };
      if (request.metadata.causationId) envelope.causationid = request.metadata.causationId;
      if (request.metadata.traceparent) envelope.traceparent = request.metadata.traceparent;
      return envelope;
    });
  }

  /**
   * Appends events, their outbox rows and the stream's new version atomically. Inside a caller's
   * transaction this is one statement in it. Outside one, concurrent appends are grouped into one
   * multi-stream statement and one commit (group commit); each stream keeps its own version check.
   * Throws ConcurrencyConflictError when the stream is not at `expectedVersion`, including when a
   * concurrent writer got there first; a lost race writes nothing.
   */
  async append<E extends DomainEvent>(db: Db, request: AppendRequest<E>): Promise<StoredEvent<E>[]> {
    if (!request.streamId || request.streamId.length > MAX_STREAM_ID) {
      throw new Error(`stream id must be 1..${MAX_STREAM_ID} characters`);
    }
    const expected = request.expectedVersion;
    if (expected !== 'any' && (!Number.isInteger(expected) || expected < 0)) {
      throw new Error(`expected version must be a non-negative integer or 'any'`);
    }
    if (request.events.length === 0) return [];
    const envelopes = this.envelopes(request);
    const prepared: PreparedAppend = {
      request,
      envelopes,
      subjects: envelopes.map((envelope, i) =>
        this.definitions.get(request.events[i].type)!.subject(envelope.orgid),
      ),
      texts: envelopes.map((envelope) => JSON.stringify(envelope)),
    };
    let appended: Appended;
    if (db.isTransaction) {
      this.appendedIn.add(db);
      appended = await this.appendOne(db, prepared, false);
    } else {
      const recordedAt = Date.now();
      appended =
        expected === 'any'
          ? await this.appendOne(db, prepared, true)
          : await this.appendBatcher(db).submit(prepared);
      // Committed (the statement was its own transaction) and sequenced: hand it to the relay.
      this.committedListener?.(publications(prepared, appended.firstSequence!, recordedAt));
    }
    return envelopes.map((envelope, i) => ({
      streamId: request.streamId,
      version: appended.before + i + 1,
      event: request.events[i] as E,
      envelope,
    }));
  }

  /**
   * One append as one statement. `sequence`: the statement commits on its own, so it takes the
   * events' producer sequences; otherwise (a caller's transaction) it queues them in the outbox.
   */
  private async appendOne(db: Db, prepared: PreparedAppend, sequence: boolean): Promise<Appended> {
    const { request, envelopes, subjects, texts } = prepared;
    const { streamId, expectedVersion: expected } = request;
    const count = envelopes.length;
    const advance =
      expected === 'any'
        ? sql`insert into streams (stream_id, version) values (${streamId}, ${count})
              on conflict (stream_id) do update set version = streams.version + ${count} returning version - ${count} as before`
        : expected === 0
          ? sql`insert into streams (stream_id, version) values (${streamId}, ${count}) on conflict do nothing returning 0 as before`
          : sql`update streams set version = ${expected + count} where stream_id = ${streamId} and version = ${expected}
                returning ${expected}::int as before`;
    const queue = sequence
      ? sql`${TAKE_SEQUENCES},
        sequenced as (
          insert into sequences (sequence, position)
          select counter.base + (inserted.version - advanced.before), inserted.position from inserted, counter, advanced
          returning sequence
        )
        select (select before from advanced) as before, (select base from counter) as base`
      : sql`queued as (insert into outbox (position) select position from inserted returning position)
        select (select before from advanced) as before, (select count(*) from queued) as queued`;
    const { rows } = await sql<{ before: number | null; base?: number | null }>`${PREPARED}
      with advanced as (${advance}),
      inserted as (
        insert into events (stream_id, version, event_id, type, org_id, subject, envelope, traceparent)
        select ${streamId}, advanced.before + v.n, v.event_id, v.type, v.org_id, v.subject, v.envelope, v.traceparent
        from advanced,
             unnest(${envelopes.map((e) => e.id)}::uuid[], ${envelopes.map((e) => e.type)}::text[], ${envelopes.map((e) => e.orgid)}::text[],
                    ${subjects}::text[], ${texts}::json[], ${envelopes.map((e) => e.traceparent ?? null)}::text[])
               with ordinality as v(event_id, type, org_id, subject, envelope, traceparent, n)
        order by v.n
        returning position, version
      ),
      ${queue}`.execute(db);
    const before = rows[0]?.before;
    if (before === null || before === undefined) throw await this.conflict(db, streamId, expected);
    return { before, firstSequence: sequence ? rows[0].base! + 1 : undefined };
  }

  private appendBatcher(db: Db): MicroBatcher<PreparedAppend, Appended> {
    let batcher = this.batchers.get(db);
    if (!batcher) {
      // One statement in flight: each append holds the producer's sequence counter until it
      // commits, so a second one in flight would only wait on that row inside Postgres (see
      // docs/backbone.md, "Group commit"), where every wait costs a sleeping and a woken
      // backend; waiting here instead grows the next batch. The
      // price: a statement that waits for a stream row held by a caller's open transaction (an
      // append with `project` to the same stream) holds up the batches behind it until that
      // transaction ends, where before three more could pass it.
      batcher = new MicroBatcher((batch) => this.appendMany(db, batch), { maxBatch: 256, concurrency: 1 });
      this.batchers.set(db, batcher);
    }
    return batcher;
  }

  /**
   * Many appends (numeric expected versions, at most one per stream) as ONE statement that
   * commits on its own: streams that pass their version check get their events and sequences
   * (in the order of the batch, then of each append), the others get a conflict.
   */
  private async appendMany(db: Db, batch: PreparedAppend[]): Promise<Array<Appended | Error>> {
    const outcomes: Array<Appended | Error | undefined> = new Array(batch.length);
    // Two appends to one stream in one statement would both see the same version: run the
    // later ones on their own, after this batch (they will conflict unless they expected that).
    const first = new Map<string, number>();
    const later: number[] = [];
    batch.forEach((p, i) =>
      first.has(p.request.streamId) ? later.push(i) : first.set(p.request.streamId, i),
    );
    const included = [...first.values()];
    const streams = included.map((i) => batch[i]);
    const events = streams.flatMap((p) =>
      p.envelopes.map((envelope, k) => ({ p, envelope, k: k + 1, subject: p.subjects[k], text: p.texts[k] })),
    );
    for (let attempt = 0; ; attempt++) {
      try {
        const { rows } = await sql<{ stream_id: string; before: number; base: number }>`${PREPARED}
          with req as (
            select * from unnest(${streams.map((p) => p.request.streamId)}::text[], ${streams.map((p) => p.request.expectedVersion as number)}::int[],
                                 ${streams.map((p) => p.envelopes.length)}::int[]) with ordinality as r(stream_id, expected, n, ord)
          ),
          created as (
            insert into streams (stream_id, version) select stream_id, n from req where expected = 0
            on conflict do nothing returning stream_id, 0 as before
          ),
          updated as (
            -- The = any(...) key condition keeps this an index lookup whatever the statistics say.
            update streams s set version = req.expected + req.n from req
            where s.stream_id = any(${streams.filter((p) => p.request.expectedVersion !== 0).map((p) => p.request.streamId)}::text[])
              and req.expected > 0 and s.stream_id = req.stream_id and s.version = req.expected
            returning s.stream_id, req.expected as before
          ),
          advanced as (select stream_id, before from created union all select stream_id, before from updated),
          inserted as (
            insert into events (stream_id, version, event_id, type, org_id, subject, envelope, traceparent)
            select e.stream_id, a.before + e.k, e.event_id, e.type, e.org_id, e.subject, e.envelope, e.traceparent
            from unnest(${events.map((e) => e.p.request.streamId)}::text[], ${events.map((e) => e.k)}::int[], ${events.map((e) => e.envelope.id)}::uuid[],
                        ${events.map((e) => e.envelope.type)}::text[], ${events.map((e) => e.envelope.orgid)}::text[], ${events.map((e) => e.subject)}::text[],
                        ${events.map((e) => e.text)}::json[], ${events.map((e) => e.envelope.traceparent ?? null)}::text[])
                   with ordinality as e(stream_id, k, event_id, type, org_id, subject, envelope, traceparent, ord)
            join advanced a on a.stream_id = e.stream_id
            order by e.ord
            returning position, stream_id, version
          ),
          ${TAKE_SEQUENCES},
          sequenced as (
            insert into sequences (sequence, position)
            select counter.base + row_number() over (order by req.ord, inserted.version), inserted.position
            from inserted join req on req.stream_id = inserted.stream_id cross join counter
            returning sequence
          )
          select a.stream_id, a.before, (select base from counter) as base from advanced a`.execute(db);
        const advanced = new Map(rows.map((r) => [r.stream_id, r.before]));
        // The sequences in the order the statement numbered them: batch order, then version.
        let next = (rows[0]?.base ?? 0) + 1;
        for (const i of included) {
          const { request, envelopes } = batch[i];
          const before = advanced.get(request.streamId);
          if (before === undefined) {
            outcomes[i] = await this.conflict(db, request.streamId, request.expectedVersion);
            continue;
          }
          outcomes[i] = { before, firstSequence: next };
          next += envelopes.length;
        }
        break;
      } catch (error) {
        // Another writer locked the same streams in the other order: the statement is atomic, retry it.
        if ((error as { code?: string }).code !== '40P01' || attempt >= 3) throw error;
      }
    }
    for (const i of later) {
      try {
        outcomes[i] = await this.appendOne(db, batch[i], true);
      } catch (error) {
        outcomes[i] = error as Error;
      }
    }
    return outcomes as Array<Appended | Error>;
  }

  private async conflict(
    db: Db,
    streamId: string,
    expected: ExpectedVersion,
  ): Promise<ConcurrencyConflictError> {
    const current = await asPersistence(db)
      .selectFrom('streams')
      .select('version')
      .where('stream_id', '=', streamId)
      .executeTakeFirst();
    return new ConcurrencyConflictError(streamId, expected === 'any' ? -1 : expected, current?.version ?? 0);
  }

  /**
   * Called when appended events are committed (the runtime hands them to its relay): with their
   * publications for appends made outside a transaction, without for a caller's transaction.
   */
  onCommitted(listener: CommittedListener): void {
    this.committedListener = listener;
  }

  /**
   * Tell the store that `trx` committed: if it appended events, the outbox relay is woken.
   * Whoever commits a transaction that may have appended calls this (executeCommand and the
   * event consumers do); anything missed is still found by the relay's polling.
   */
  afterCommit(trx: Db): void {
    if (this.appendedIn.has(trx)) this.committedListener?.();
  }

  /** Every event of a stream, oldest first (loads made together outside a transaction share one query). */
  async readStream<E extends DomainEvent = DomainEvent>(db: Db, streamId: string): Promise<StoredEvent<E>[]> {
    const rows = db.isTransaction
      ? (await this.loadStreams(db, [streamId]))[0]
      : await this.loadBatcher(db).submit(streamId);
    return rows.map((row) => {
      const envelope = row.envelope as unknown as UnsequencedEnvelope;
      const stored = this.registry.get(envelope.type);
      if (!stored)
        throw new Error(
          `stream "${streamId}" holds ${envelope.type}, which the ${this.context.context} context does not define`,
        );
      // Old versions are upcast so that evolve() only ever sees the current shape.
      const current = this.definitions.get(stored.name)!;
      const { data } = this.registry.decode(envelope, current);
      return { streamId, version: row.version, envelope, event: { type: current.name, data } as E };
    });
  }

  private loadBatcher(db: Db): MicroBatcher<string, StreamRow[]> {
    let batcher = this.loaders.get(db);
    if (!batcher) {
      batcher = new MicroBatcher((ids) => this.loadStreams(db, ids), { maxBatch: 256, concurrency: 4 });
      this.loaders.set(db, batcher);
    }
    return batcher;
  }

  private async loadStreams(db: Db, streamIds: string[]): Promise<StreamRow[][]> {
    const { rows } = await sql<StreamRow & { stream_id: string }>`${PREPARED}
      select stream_id, version, envelope from events
      where stream_id = any(${[...new Set(streamIds)]}::text[])
      order by stream_id, version`.execute(db);
    const byStream = new Map<string, StreamRow[]>();
    for (const row of rows) {
      const list = byStream.get(row.stream_id) ?? [];
      list.push(row);
      byStream.set(row.stream_id, list);
    }
    return streamIds.map((id) => byStream.get(id) ?? []);
  }
}
