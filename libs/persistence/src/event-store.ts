import {
  ContextConstants,
  EventDefinition,
  EventRegistry,
  InvalidEventPayloadError,
  UnsequencedEnvelope,
  formatIssues,
} from '@palisade/contracts';
import { sql } from 'kysely';
import { AnyDatabase, asPersistence } from './database';
import { v7 as uuidv7 } from 'uuid';
import { ConcurrencyConflictError } from './errors';

/** A domain event: `{ type: '<entity>.<verb>', data }`. */
export interface DomainEvent<T extends string = string, D = unknown> {
  type: T;
  data: D;
}

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

const MAX_STREAM_ID = 256;

/**
 * The service's event store: append with optimistic concurrency into `events`, in the same
 * transaction as an `outbox` row per event. Payloads are validated against their contract.
 */
export class EventStore {
  /** The newest definition of each domain event name: what new events are written as. */
  private readonly definitions = new Map<string, EventDefinition>();
  private readonly registry: EventRegistry;

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
   * Appends inside the caller's transaction. Throws ConcurrencyConflictError when the stream
   * is not at `expectedVersion` — including when a concurrent transaction appended first.
   */
  async append<E extends DomainEvent>(trx: Db, request: AppendRequest<E>): Promise<StoredEvent<E>[]> {
    if (!request.streamId || request.streamId.length > MAX_STREAM_ID) {
      throw new Error(`stream id must be 1..${MAX_STREAM_ID} characters`);
    }
    if (request.events.length === 0) return [];
    const envelopes = this.envelopes(request);
    const firstVersion = (await this.advanceStream(trx, request.streamId, request.expectedVersion, envelopes.length)) + 1;
    const subjects = envelopes.map((envelope, i) => {
      const definition = this.definitions.get(request.events[i].type)!;
      return definition.subject(envelope.orgid);
    });
    await sql`
      with inserted as (
        insert into events (stream_id, version, event_id, type, org_id, subject, envelope)
        select ${request.streamId}, v.version, v.event_id, v.type, v.org_id, v.subject, v.envelope
        from unnest(${envelopes.map((_, i) => firstVersion + i)}::int[], ${envelopes.map((e) => e.id)}::uuid[],
                    ${envelopes.map((e) => e.type)}::text[], ${envelopes.map((e) => e.orgid)}::text[],
                    ${subjects}::text[], ${envelopes.map((e) => JSON.stringify(e))}::jsonb[])
          as v(version, event_id, type, org_id, subject, envelope)
        returning position
      )
      insert into outbox (position) select position from inserted`.execute(trx);
    return envelopes.map((envelope, i) => ({
      streamId: request.streamId,
      version: firstVersion + i,
      event: request.events[i],
      envelope,
    }));
  }

  /** Moves the stream's version forward by `count`; returns the version before. */
  private async advanceStream(trx: Db, streamId: string, expected: ExpectedVersion, count: number): Promise<number> {
    if (expected === 'any') {
      const { rows } = await sql<{ version: number }>`
        insert into streams (stream_id, version) values (${streamId}, ${count})
        on conflict (stream_id) do update set version = streams.version + ${count}
        returning version`.execute(trx);
      return rows[0].version - count;
    }
    if (!Number.isInteger(expected) || expected < 0) throw new Error(`expected version must be a non-negative integer or 'any'`);
    const result =
      expected === 0
        ? await sql`insert into streams (stream_id, version) values (${streamId}, ${count}) on conflict do nothing`.execute(trx)
        : await sql`update streams set version = ${expected + count} where stream_id = ${streamId} and version = ${expected}`.execute(
            trx,
          );
    if (Number(result.numAffectedRows ?? 0) !== 1) {
      const current = await asPersistence(trx).selectFrom('streams').select('version').where('stream_id', '=', streamId).executeTakeFirst();
      throw new ConcurrencyConflictError(streamId, expected, current?.version ?? 0);
    }
    return expected;
  }

  /** Every event of a stream, oldest first. */
  async readStream<E extends DomainEvent = DomainEvent>(db: Db, streamId: string): Promise<StoredEvent<E>[]> {
    const rows = await asPersistence(db)
      .selectFrom('events')
      .select(['version', 'envelope'])
      .where('stream_id', '=', streamId)
      .orderBy('version')
      .execute();
    return rows.map((row) => {
      const envelope = row.envelope as unknown as UnsequencedEnvelope;
      const stored = this.registry.get(envelope.type);
      if (!stored) throw new Error(`stream "${streamId}" holds ${envelope.type}, which the ${this.context.context} context does not define`);
      // Old versions are upcast so that evolve() only ever sees the current shape.
      const current = this.definitions.get(stored.name)!;
      const { data } = this.registry.decode(envelope, current);
      return { streamId, version: row.version, envelope, event: { type: current.name, data } as E };
    });
  }
}
