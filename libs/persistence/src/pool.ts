import { Pool, types as pgTypes } from 'pg';

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

/** A pg pool bound to one service schema: what createDatabase stands on, and bulk readers use alone. */
export function createPool(options: DatabaseOptions): Pool {
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
  return pool;
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
