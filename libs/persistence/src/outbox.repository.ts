import { sql } from 'kysely';
import { AnyDatabase, PREPARED } from './database';

/**
 * An event ready to publish: its producer sequence assigned, its envelope as JSON text with the
 * sequence in it (the stored text is reused, not parsed and serialized again).
 */
export interface Publication {
  sequence: number;
  subject: string;
  eventId: string;
  type: string;
  traceparent?: string;
  /** When the event was committed (ms since the epoch). */
  recordedAt: number;
  /** The complete CloudEvents envelope, `sequence` included. */
  json: string;
}

type Db = AnyDatabase;

interface PublicationRow {
  sequence: number;
  subject: string;
  event_id: string;
  type: string;
  traceparent: string | null;
  recorded_at: number;
  envelope: string;
}

const PUBLICATION_COLUMNS = sql`s.sequence, e.subject, e.event_id, e.type, e.traceparent,
  (extract(epoch from e.recorded_at) * 1000)::float8 as recorded_at, e.envelope::text as envelope`;

/**
 * Each event by its primary key. With a plain join (or a lateral subquery the planner flattens
 * into one) Postgres hash-joins a sequential scan of `events` when its statistics lag behind the
 * fast-growing table, and every relay batch reads the whole table. `limit 1` keeps this lateral
 * subquery from being pulled up, so it stays one index lookup per event.
 */
const EVENT_BY_POSITION = sql`cross join lateral (select * from events where events.position = s.position limit 1) e`;

/** The stored envelope (no sequence) with `sequence` added, as text. */
export function withSequence(envelopeJson: string, sequence: number): string {
  const end = envelopeJson.lastIndexOf('}');
  return `${envelopeJson.slice(0, end)}, "sequence": ${sequence}}`;
}

function toPublication(row: PublicationRow): Publication {
  return {
    sequence: row.sequence,
    subject: row.subject,
    eventId: row.event_id,
    type: row.type,
    traceparent: row.traceparent ?? undefined,
    recordedAt: row.recorded_at,
    json: withSequence(row.envelope, row.sequence),
  };
}

/**
 * Sequenced events not yet acknowledged by JetStream (the relay stopped or a publish failed),
 * after the recorded watermark and after `after` (what this relay already re-published).
 */
export async function findUnpublished(db: Db, limit: number, after = 0): Promise<Publication[]> {
  const { rows } = await sql<PublicationRow>`
    select ${PUBLICATION_COLUMNS}
    from sequences s ${EVENT_BY_POSITION}
    where s.sequence > greatest((select published_through from relay_state), ${after}::int8)
    order by s.sequence
    limit ${limit}`.execute(db);
  return rows.map(toPublication);
}

/** Records that every sequence up to `through` is acknowledged by JetStream. */
export async function markPublishedThrough(db: Db, through: number): Promise<void> {
  await sql`${PREPARED}update relay_state set published_through = greatest(published_through, ${through})`.execute(
    db,
  );
}

/** Events by producer sequence, for replay requests: [from, to], at most `limit`. */
export async function readBySequence(
  db: Db,
  from: number,
  to: number,
  limit: number,
): Promise<Publication[]> {
  const { rows } = await sql<PublicationRow>`
    select ${PUBLICATION_COLUMNS}
    from sequences s ${EVENT_BY_POSITION}
    where s.sequence between ${from} and ${to}
    order by s.sequence
    limit ${limit}`.execute(db);
  return rows.map(toPublication);
}

/** The last producer sequence taken (by an append, or at a transaction's commit). */
export async function headSequence(db: Db): Promise<number> {
  const { rows } = await sql<{ last_sequence: number }>`select last_sequence from relay_state`.execute(db);
  return rows[0]?.last_sequence ?? 0;
}

/** The recorded watermark: every sequence up to it is acknowledged by JetStream. */
export async function publishedThrough(db: Db): Promise<number> {
  const { rows } = await sql<{
    published_through: number;
  }>`select published_through from relay_state`.execute(db);
  return rows[0]?.published_through ?? 0;
}

/** Events not yet sequenced / sequenced but not yet acknowledged by JetStream. */
export async function outboxBacklog(db: Db): Promise<{ unsequenced: number; unpublished: number }> {
  const { rows } = await sql<{ unsequenced: number; unpublished: number }>`
    select (select count(*) from outbox)::int8 as unsequenced,
           (select last_sequence - published_through from relay_state)::int8 as unpublished`.execute(db);
  return rows[0];
}
