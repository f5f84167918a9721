import type { AnyDatabase } from '@palisade/persistence';
import { sql } from 'kysely';
import { keyCheck } from './envelope';
import { KeyFileError, KeyRing } from './master-key-file';

export interface MasterKeyRow {
  key_id: string;
  state: 'current' | 'retiring';
  check_value: Buffer;
}

export async function masterKeyRows(db: AnyDatabase): Promise<MasterKeyRow[]> {
  const { rows } = await sql<MasterKeyRow>`select key_id, state, check_value from local_master_keys`.execute(
    db,
  );
  return rows;
}

/**
 * The key file must hold every master key the database names, and they must be the same keys
 * (their check values match): otherwise the values cannot be opened, and the error says why.
 */
export function verifyKeyRing(file: string, ring: KeyRing, rows: readonly MasterKeyRow[]): void {
  for (const row of rows) {
    const key = ring.keys.get(row.key_id);
    if (!key)
      throw new KeyFileError(
        `the master key ${row.key_id} that encrypts stored values is not in ${file}; restore the file from your backup`,
      );
    if (!keyCheck(key).equals(row.check_value))
      throw new KeyFileError(
        `${file} holds another key under the id ${row.key_id} than the one the values use`,
      );
  }
}

/** The id of the current master key, read in `trx` and held (FOR SHARE) until it commits, so a rotation waits for it. */
export async function currentKeyId(trx: AnyDatabase): Promise<string> {
  // A rotation that commits while this waits leaves this statement with no row (its snapshot
  // predates the new key): ask again, then the new key is seen.
  for (let attempt = 0; attempt < 3; attempt++) {
    const { rows } = await sql<{ key_id: string }>`
      select key_id from local_master_keys where state = 'current' for share`.execute(trx);
    if (rows[0]) return rows[0].key_id;
  }
  throw new KeyFileError('the local store has no current master key');
}
