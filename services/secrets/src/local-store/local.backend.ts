import type { AnyDatabase } from '@palisade/persistence';
import { sql } from 'kysely';
import {
  BackendEntry,
  LocalRef,
  SecretBackend,
  SecretBackendError,
  SecretKey,
  SecretRef,
} from '../backends/secret-backend';
import { keyCheck, openValue, sealValue } from './envelope';
import { currentKeyId, masterKeyRows, verifyKeyRing } from './local-keys';
import { KeyFileError, KeyRing, newMasterKey, readKeyFile, writeKeyFile } from './master-key-file';

/** Versions of one secret the store keeps (older ones are removed as new ones arrive), as SSM does. */
export const LOCAL_VERSIONS_KEPT = 100;

interface ValueRow {
  name: string;
  version: number;
  key_id: string;
  wrapped_key: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/**
 * The `palisade dev` store: AES-256-GCM envelopes in the secrets schema (`local_values`), each
 * value under its own data key, each data key wrapped by a master key kept in a 0600 file outside
 * the database. The database names the current master key; `rotateLocalMasterKey` re-wraps the
 * data keys under a new one while this keeps serving (a key it does not know yet is read from
 * the file again).
 */
export class LocalSecretBackend implements SecretBackend {
  readonly kind = 'local' as const;
  private keys = new Map<string, Buffer>();

  constructor(
    readonly keyFile: string,
    private readonly options: { create: boolean },
  ) {}

  /** Opens (or, when allowed and there are no values yet, creates) the key file and checks it against the database. */
  async start(db: AnyDatabase): Promise<void> {
    let ring = readKeyFile(this.keyFile);
    const rows = await masterKeyRows(db);
    if (!ring) {
      if (rows.length)
        throw new KeyFileError(
          `the master key file ${this.keyFile} is missing, and stored values are encrypted under ${rows.map((r) => r.key_id).join(', ')}; restore it from your backup`,
        );
      if (!this.options.create)
        throw new KeyFileError(
          `the master key file ${this.keyFile} does not exist; set SECRETS_MASTER_KEY_FILE to your key file`,
        );
      const { keyId, key } = newMasterKey();
      ring = { current: keyId, keys: new Map([[keyId, key]]) };
      writeKeyFile(this.keyFile, ring);
    }
    if (rows.length === 0) {
      const key = ring.keys.get(ring.current)!;
      // Another replica may do the same at the same time: the first current key wins.
      await sql`insert into local_master_keys (key_id, state, check_value)
                values (${ring.current}, 'current', ${keyCheck(key)}) on conflict do nothing`.execute(db);
    }
    verifyKeyRing(this.keyFile, ring, await masterKeyRows(db));
    this.keys = ring.keys;
  }

  private key(keyId: string): Buffer {
    let key = this.keys.get(keyId);
    if (!key) {
      // A rotation added it since: the file has it.
      const ring: KeyRing | undefined = readKeyFile(this.keyFile);
      if (ring) this.keys = ring.keys;
      key = this.keys.get(keyId);
    }
    if (!key)
      throw new SecretBackendError('unavailable', `the master key ${keyId} is not in ${this.keyFile}`);
    return key;
  }

  async put(trx: AnyDatabase, key: SecretKey, version: number, value: string): Promise<LocalRef> {
    const keyId = await currentKeyId(trx);
    const envelope = sealValue(this.key(keyId), keyId, { ...key, version }, value);
    await sql`insert into local_values (org_id, workspace_id, name, version, key_id, wrapped_key, iv, ciphertext, tag)
              values (${key.orgId}, ${key.workspaceId}, ${key.name}, ${version}, ${keyId},
                      ${envelope.wrappedKey}, ${envelope.iv}, ${envelope.ciphertext}, ${envelope.tag})`.execute(
      trx,
    );
    await sql`delete from local_values where org_id = ${key.orgId} and workspace_id = ${key.workspaceId}
              and name = ${key.name} and version <= ${version - LOCAL_VERSIONS_KEPT}`.execute(trx);
    return { backend: 'local', version };
  }

  async getMany(
    db: AnyDatabase,
    orgId: string,
    workspaceId: string,
    refs: ReadonlyArray<{ name: string; ref: SecretRef }>,
  ): Promise<Map<string, string>> {
    const names = refs.map((r) => r.name);
    const versions = refs.map((r) => r.ref.version);
    for (const { name, ref } of refs)
      if (ref.backend !== 'local')
        throw new SecretBackendError(
          'not_found',
          `${name} was stored by the ${ref.backend} backend; set it again`,
        );
    const { rows } = await sql<ValueRow>`
      select v.name, v.version, v.key_id, v.wrapped_key, v.iv, v.ciphertext, v.tag
      from unnest(${names}::text[], ${versions}::int[]) as wanted (name, version)
      join local_values v on v.org_id = ${orgId} and v.workspace_id = ${workspaceId}
        and v.name = wanted.name and v.version = wanted.version`.execute(db);
    const values = new Map<string, string>();
    for (const row of rows) {
      try {
        values.set(
          row.name,
          openValue(
            this.key(row.key_id),
            { orgId, workspaceId, name: row.name, version: row.version },
            {
              keyId: row.key_id,
              wrappedKey: row.wrapped_key,
              iv: row.iv,
              ciphertext: row.ciphertext,
              tag: row.tag,
            },
          ),
        );
      } catch (error) {
        if (error instanceof SecretBackendError) throw error;
        throw new SecretBackendError(
          'unavailable',
          `the local store cannot open ${row.name} version ${row.version}: it was changed`,
        );
      }
    }
    const missing = names.filter((n) => !values.has(n));
    if (missing.length)
      throw new SecretBackendError('not_found', `the local store has no value for ${missing.join(', ')}`);
    return values;
  }

  async delete(trx: AnyDatabase, key: SecretKey): Promise<void> {
    await sql`delete from local_values where org_id = ${key.orgId} and workspace_id = ${key.workspaceId}
              and name = ${key.name}`.execute(trx);
  }

  async list(db: AnyDatabase, orgId: string, workspaceId: string): Promise<BackendEntry[]> {
    const { rows } = await sql<BackendEntry>`
      select name, max(version)::int as version from local_values
      where org_id = ${orgId} and workspace_id = ${workspaceId} group by name`.execute(db);
    return rows;
  }
}
