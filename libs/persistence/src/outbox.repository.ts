import { EventEnvelope } from '@palisade/contracts';
import { sql } from 'kysely';
import { AnyDatabase } from './database';

/** An outbox row ready to publish: its sequence is assigned, its envelope complete. */
export interface Publication {
  sequence: number;
  subject: string;
  envelope: EventEnvelope;
}

type Db = AnyDatabase;

interface PublicationRow {
  sequence: number;
  subject: string;
  envelope: Omit<EventEnvelope, 'sequence'>;
}

function toPublication(row: PublicationRow): Publication {
  return { sequence: row.sequence, subject: row.subject, envelope: { ...row.envelope, sequence: row.sequence } };
}

/**
 * Gives the next committed outbox rows their producer sequence: gap-free and in the order
 * the relay sees them, so a rolled-back or slow transaction never leaves a hole.
 * The row lock on relay_state serializes this across relays.
 */
export async function assignSequences(db: Db, limit: number): Promise<Publication[]> {
  return db.transaction().execute(async (trx) => {
    const { rows: state } = await sql<{ last_sequence: number }>`
      select last_sequence from relay_state for update`.execute(trx);
    const last = state[0].last_sequence;
    const { rows } = await sql<PublicationRow>`
      with pending as (
        select position, row_number() over (order by position) as n
        from (select position from outbox where sequence is null order by position limit ${limit}) p
      )
      update outbox o set sequence = ${last} + pending.n
      from pending, events e
      where o.position = pending.position and e.position = o.position
      returning o.sequence, e.subject, e.envelope`.execute(trx);
    if (rows.length === 0) return [];
    await sql`update relay_state set last_sequence = ${last + rows.length}`.execute(trx);
    return rows.sort((a, b) => a.sequence - b.sequence).map(toPublication);
  });
}

/** Rows that have a sequence but were not confirmed published (the relay stopped mid-way). */
export async function findUnpublished(db: Db, limit: number): Promise<Publication[]> {
  const { rows } = await sql<PublicationRow>`
    select o.sequence, e.subject, e.envelope
    from outbox o join events e on e.position = o.position
    where o.sequence is not null and o.published_at is null
    order by o.sequence
    limit ${limit}`.execute(db);
  return rows.map(toPublication);
}

export async function markPublished(db: Db, sequences: readonly number[]): Promise<void> {
  if (sequences.length === 0) return;
  await sql`update outbox set published_at = now() where sequence = any(${sequences as number[]}::bigint[])`.execute(db);
}

/** Events by producer sequence, for replay requests: [from, to], at most `limit`. */
export async function readBySequence(db: Db, from: number, to: number, limit: number): Promise<Publication[]> {
  const { rows } = await sql<PublicationRow>`
    select o.sequence, e.subject, e.envelope
    from outbox o join events e on e.position = o.position
    where o.sequence between ${from} and ${to}
    order by o.sequence
    limit ${limit}`.execute(db);
  return rows.map(toPublication);
}

/** The last sequence the relay assigned. */
export async function headSequence(db: Db): Promise<number> {
  const { rows } = await sql<{ last_sequence: number }>`select last_sequence from relay_state`.execute(db);
  return rows[0]?.last_sequence ?? 0;
}

/** Counts of outbox rows not yet sequenced / not yet published (for metrics and readiness). */
export async function outboxBacklog(db: Db): Promise<{ unsequenced: number; unpublished: number }> {
  const { rows } = await sql<{ unsequenced: number; unpublished: number }>`
    select count(*) filter (where sequence is null)::int8 as unsequenced,
           count(*) filter (where sequence is not null and published_at is null)::int8 as unpublished
    from outbox where published_at is null`.execute(db);
  return rows[0];
}
