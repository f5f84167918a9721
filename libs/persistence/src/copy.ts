/**
 * Bulk reads with COPY, importable on their own as `@palisade/persistence/copy` (pg only, no
 * kysely): what a worker thread that only reads needs, and it starts in a fraction of the time.
 */
import { Pool } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { AnyDatabase } from './database';

export * from './copy-binary';
export { createPool } from './pool';
export type { DatabaseOptions } from './pool';

/** Bytes Postgres may send ahead of the reader. */
const COPY_BUFFER = 1 << 20;

/** The pg pool under each database createDatabase made (for what kysely cannot run: COPY). */
const pools = new WeakMap<AnyDatabase, Pool>();

/** Records the pool under a database (createDatabase does). */
export function rememberPool(db: AnyDatabase, pool: Pool): void {
  pools.set(db, pool);
}

/**
 * The output of a `COPY … TO STDOUT` statement, chunk by chunk as it arrives, on a connection of
 * a pool (or of the pool under a database createDatabase made). COPY takes no parameters: the
 * caller builds the statement from trusted parts only. A reader that stops early closes the
 * connection (it is still in the middle of the COPY) instead of returning it to the pool.
 */
export async function* copyOut(source: AnyDatabase | Pool, statement: string): AsyncGenerator<Buffer> {
  const pool = source instanceof Pool ? source : pools.get(source);
  if (!pool)
    throw new Error('copyOut needs a pg pool or a database made by createDatabase (not a transaction)');
  const client = await pool.connect();
  let finished = false;
  try {
    // A deep buffer: Postgres keeps sending while the reader works on what came before.
    for await (const chunk of client.query(copyTo(statement, { highWaterMark: COPY_BUFFER })))
      yield chunk as Buffer;
    finished = true;
  } finally {
    client.release(!finished);
  }
}
