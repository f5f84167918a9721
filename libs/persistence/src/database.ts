import { Kysely, PostgresDialect } from 'kysely';
import { Pool, types as pgTypes } from 'pg';
import { PersistenceTables } from './tables';

/** int8 columns (positions, sequences, counts) as numbers: they stay far below 2^53. */
const INT8_OID = 20;
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pgTypes.getTypeParser(oid, format as 'text');
  },
};

export interface DatabaseOptions {
  /** postgres://… connection string. */
  url: string;
  /** The service's own schema; it comes first on the search_path, so queries name tables plainly. */
  schema: string;
  /** Pool size (default 10). */
  poolSize?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
}

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
  const pool = new Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    application_name: options.applicationName ?? `palisade-${options.schema}`,
    options: `-c search_path=${quoteIdent(options.schema)},public`,
    types: typeParsers,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return new Kysely<T & PersistenceTables>({ dialect: new PostgresDialect({ pool }) });
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
