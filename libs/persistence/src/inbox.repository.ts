import { sql } from 'kysely';
import { AnyDatabase } from './database';

type Db = AnyDatabase;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Records that `consumer` has processed these events; returns the ids that were new.
 * Call it in the same transaction as the effects: an id returned here is applied once, ever.
 *
 * The values are written into the statement, not passed as parameters, so that as a
 * transaction's first statement it travels with the BEGIN (see `createDatabase`): one round
 * trip less per consumer batch. Ids must be UUIDs, and the consumer name is quoted.
 */
export async function claimEvents(
  trx: Db,
  consumer: string,
  eventIds: readonly string[],
): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  for (const id of eventIds)
    if (!UUID.test(id)) throw new Error(`event id ${JSON.stringify(id)} is not a UUID`);
  const { rows } = await sql<{ event_id: string }>`
    insert into inbox (consumer, event_id)
    select ${sql.lit(consumer)}, id from unnest(${sql.lit(`{${eventIds.join(',')}}`)}::uuid[]) as id
    on conflict do nothing
    returning event_id`.execute(trx);
  return new Set(rows.map((row) => row.event_id));
}
