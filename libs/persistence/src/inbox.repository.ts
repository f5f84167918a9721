import { sql } from 'kysely';
import { AnyDatabase, PREPARED } from './database';

type Db = AnyDatabase;

/**
 * Records that `consumer` has processed these events; returns the ids that were new.
 * Call it in the same transaction as the effects: an id returned here is applied once, ever.
 */
export async function claimEvents(
  trx: Db,
  consumer: string,
  eventIds: readonly string[],
): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const { rows } = await sql<{ event_id: string }>`${PREPARED}
    insert into inbox (consumer, event_id)
    select ${consumer}, id from unnest(${eventIds as string[]}::uuid[]) as id
    on conflict do nothing
    returning event_id`.execute(trx);
  return new Set(rows.map((row) => row.event_id));
}
