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
 * caller builds the statement from trusted parts only. `settings` (planner settings, say) hold for
 * this statement only: they are set on the connection before it and reset after. A reader that
 * stops early closes the connection (it is still in the middle of the COPY) instead of returning
 * it to the pool.
 */
export async function* copyOut(
  source: AnyDatabase | Pool,
  statement: string,
  settings: Readonly<Record<string, string>> = {},
): AsyncGenerator<Buffer> {
  const pool = source instanceof Pool ? source : pools.get(source);
  if (!pool)
    throw new Error('copyOut needs a pg pool or a database made by createDatabase (not a transaction)');
  const client = await pool.connect();
  let finished = false;
  const names = Object.keys(settings);
  try {
    if (names.length)
      await client.query(
        `select ${names.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, false)`).join(', ')}`,
        names.flatMap((name) => [name, settings[name]]),
      );
    // A deep buffer: Postgres keeps sending while the reader works on what came before.
    for await (const chunk of client.query(copyTo(statement, { highWaterMark: COPY_BUFFER })))
      yield chunk as Buffer;
    if (names.length) await client.query(names.map((name) => `reset ${quoteIdent(name)}`).join('; '));
    finished = true;
  } finally {
    client.release(!finished);
  }
}

/** A setting's name as an SQL identifier (RESET takes no parameters). */
function quoteIdent(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}
