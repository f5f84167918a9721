import { sql } from 'kysely';
import type { BatchEventHandlerFn } from '../src/durable-consumer';

/** bench:backbone's projection, set-based: one statement per micro-batch. */
export const openBalances: BatchEventHandlerFn = async (events, ctx) => {
  const ids = events.map((event) => (event.data as { accountId: string }).accountId);
  await sql`insert into balances (account_id, balance, entries) select a, 0, 0 from unnest(${ids}::text[]) as a on conflict do nothing`.execute(
    ctx.trx,
  );
};
