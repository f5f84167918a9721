import { createHash } from 'node:crypto';
import { Kysely, PostgresDialect, PostgresPool, PostgresPoolClient, sql } from 'kysely';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { rememberPool } from './copy';
import { createPool, DatabaseOptions } from './pool';
import { PersistenceTables } from './tables';

export { quoteIdent } from './pool';
export type { DatabaseOptions } from './pool';

export type ServiceDatabase<T = object> = Kysely<T & PersistenceTables>;

/**
 * Any service's database, as the libraries take it: kysely's types are invariant in the table
 * map, so a `Kysely<Identity & Persistence>` is not a `Kysely<Persistence>`. Libraries narrow
 * with `asPersistence` where they use the typed query builder.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDatabase = Kysely<any>;

/** The library's own view of a service database. */
export function asPersistence(db: AnyDatabase): Kysely<PersistenceTables> {
  return db as Kysely<PersistenceTables>;
}

/** A kysely instance on its own pg pool, bound to one service schema. */
export function createDatabase<T = object>(options: DatabaseOptions): ServiceDatabase<T> {
  const pool = createPool(options);
  const db = new Kysely<T & PersistenceTables>({
    dialect: new PostgresDialect({ pool: preparingPool(pool) }),
  });
  rememberPool(db, pool);
  return db;
}

const PREPARED_MARK = '/* prepared */ ';

/**
 * Put first in a hot statement whose text never varies (values only as parameters, lists as
 * arrays): it then runs as a named prepared statement, parsed and planned once per connection
 * instead of on every call. On the event path that planning was a large part of Postgres's CPU.
 */
export const PREPARED = sql.raw(PREPARED_MARK);

const statementNames = new Map<string, string>();

/** The name of a prepared statement: derived from its text, so one name never has two texts. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `palisade_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** What a statement that has not been sent yet answers (kysely reads rows and the row count). */
const NOTHING_SENT = { rows: [], rowCount: 0, command: '' };

/**
 * The pg pool as kysely uses it, with statements marked PREPARED run as named statements, and
 * a transaction's BEGIN sent with its first statement when that one takes no parameters: a
 * simple query may hold several statements, so `begin; <statement>` is one round trip instead
 * of two (the consumers' inbox claim is written that way). A transaction that runs nothing
 * sends nothing.
 */
function preparingPool(pool: Pool): PostgresPool {
  const clients = new WeakMap<PoolClient, PostgresPoolClient>();
  const wrap = (client: PoolClient): PostgresPoolClient => {
    let beginPending = false;
    const send = (text: string, parameters: unknown[]) =>
      text.startsWith(PREPARED_MARK)
        ? client.query({ name: statementName(text), text, values: parameters })
        : client.query(text, parameters);
    const run = async (text: string, parameters: unknown[]) => {
      if (text === 'begin' && parameters.length === 0) {
        beginPending = true;
        return NOTHING_SENT;
      }
      if (!beginPending) return send(text, parameters);
      beginPending = false;
      if (text === 'commit' || text === 'rollback') return NOTHING_SENT;
      if (parameters.length > 0 || text.startsWith(PREPARED_MARK)) {
        await client.query('begin');
        return send(text, parameters);
      }
      const results = (await client.query(`begin; ${text}`)) as unknown as QueryResult[];
      return results[results.length - 1];
    };
    const query = (text: unknown, values?: readonly unknown[]) => {
      // kysely streams with a cursor object, which must come back as it is (not in a promise);
      // pg sends queued queries in order, so a pending BEGIN still goes first.
      if (typeof text !== 'string') {
        if (beginPending) {
          beginPending = false;
          client.query('begin').catch(() => undefined);
        }
        return client.query(text as never);
      }
      return run(text, values ? [...values] : []);
    };
    return {
      query: query as unknown as PostgresPoolClient['query'],
      release: () => {
        beginPending = false;
        client.release();
      },
    };
  };
  return {
    connect: async () => {
      const client = await pool.connect();
      let wrapped = clients.get(client);
      if (!wrapped) {
        wrapped = wrap(client);
        clients.set(client, wrapped);
      }
      return wrapped;
    },
    end: () => pool.end(),
  };
}
