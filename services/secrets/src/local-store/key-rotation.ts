import type { AnyDatabase } from '@palisade/persistence';
import { sql } from 'kysely';
import { keyCheck, rewrapKey } from './envelope';
import { masterKeyRows, verifyKeyRing } from './local-keys';
import { KeyFileError, newMasterKey, readKeyFile, writeKeyFile } from './master-key-file';

export interface RotationResult {
  keyId: string;
  previousKeyId?: string;
  rewrapped: number;
}

const BATCH = 200;

/**
 * Rotates the local store's master key while the service keeps running:
 *
 * 1. a new key is added to the key file (the old one stays), then made current in the database
 *    (this waits for writes that hold the old key, and every later write uses the new one);
 * 2. every data key still under an older key is re-wrapped under the new one, in batches, each
 *    row in one update (a reader sees the old wrapping or the new, both openable meanwhile);
 * 3. the old key's row is dropped and the file keeps only the new key.
 *
 * Interrupted, it resumes where it stopped when run again (a key left `retiring` is finished
 * first). Values are never decrypted: only their data keys are.
 */
export async function rotateLocalMasterKey(
  db: AnyDatabase,
  keyFile: string,
  options: { batchSize?: number; afterBatch?: (rewrapped: number) => Promise<void> } = {},
): Promise<RotationResult> {
  const batchSize = options.batchSize ?? BATCH;
  const ring = readKeyFile(keyFile);
  if (!ring) throw new KeyFileError(`the master key file ${keyFile} does not exist`);
  const rows = await masterKeyRows(db);
  verifyKeyRing(keyFile, ring, rows);
  let current = rows.find((r) => r.state === 'current')?.key_id;
  let previous = rows.find((r) => r.state === 'retiring')?.key_id;
  if (!current)
    throw new KeyFileError('the local store has no master key yet: start the secrets service once first');
  if (!previous) {
    const fresh = newMasterKey();
    writeKeyFile(keyFile, { current: fresh.keyId, keys: new Map([...ring.keys, [fresh.keyId, fresh.key]]) });
    ring.keys.set(fresh.keyId, fresh.key);
    await db.transaction().execute(async (trx) => {
      await sql`update local_master_keys set state = 'retiring' where state = 'current'`.execute(trx);
      await sql`insert into local_master_keys (key_id, state, check_value)
                values (${fresh.keyId}, 'current', ${keyCheck(fresh.key)})`.execute(trx);
    });
    previous = current;
    current = fresh.keyId;
  }
  const to = { keyId: current, key: ring.keys.get(current)! };
  let rewrapped = 0;
  for (;;) {
    const done = await db.transaction().execute(async (trx) => {
      const { rows: batch } = await sql<{
        org_id: string;
        workspace_id: string;
        name: string;
        version: number;
        key_id: string;
        wrapped_key: Buffer;
      }>`select org_id, workspace_id, name, version, key_id, wrapped_key from local_values
         where key_id <> ${current} limit ${batchSize} for update`.execute(trx);
      for (const row of batch) {
        const from = { keyId: row.key_id, key: ring.keys.get(row.key_id)! };
        if (!from.key) throw new KeyFileError(`the master key ${row.key_id} is not in ${keyFile}`);
        const address = {
          orgId: row.org_id,
          workspaceId: row.workspace_id,
          name: row.name,
          version: row.version,
        };
        await sql`update local_values set key_id = ${current}, wrapped_key = ${rewrapKey(from, to, address, row.wrapped_key)}
                  where org_id = ${row.org_id} and workspace_id = ${row.workspace_id}
                  and name = ${row.name} and version = ${row.version}`.execute(trx);
      }
      return batch.length;
    });
    rewrapped += done;
    await options.afterBatch?.(rewrapped);
    if (done < batchSize) {
      const { rows: left } = await sql<{ n: number }>`
        select count(*)::int as n from local_values where key_id <> ${current}`.execute(db);
      if (left[0].n === 0) break;
    }
  }
  await sql`delete from local_master_keys where state = 'retiring'`.execute(db);
  writeKeyFile(keyFile, { current, keys: new Map([[current, to.key]]) });
  return { keyId: current, previousKeyId: previous, rewrapped };
}
