import type { AnyDatabase } from '@palisade/persistence';
import { sql } from 'kysely';
import type { SecretKey, SecretRef } from '../backends/secret-backend';
import type { RuntimeFacts } from '../domain/resolution';

/** A row of `secrets`: metadata and where the current value lives, never the value. */
export interface SecretRow {
  name: string;
  version: number;
  backend: 'local' | 'ssm';
  ref: SecretRef;
  changed_by: string;
  changed_at: Date;
  created_at: Date;
}

/** The workspace's secrets (those named in `names`, or all), by name. */
export async function secretRows(
  db: AnyDatabase,
  orgId: string,
  workspaceId: string,
  names?: readonly string[],
): Promise<SecretRow[]> {
  const { rows } = await sql<SecretRow>`
    select name, version, backend, ref, changed_by, changed_at, created_at from secrets
    where org_id = ${orgId} and workspace_id = ${workspaceId}
    ${names ? sql`and name = any(${names}::text[])` : sql``}
    order by name`.execute(db);
  return rows;
}

/** Records the secret's new current version and where it lives (in the command's transaction). */
export async function saveSecretRow(
  trx: AnyDatabase,
  key: SecretKey,
  row: { version: number; ref: SecretRef; changedBy: string; at: Date },
): Promise<void> {
  await sql`insert into secrets (org_id, workspace_id, name, version, backend, ref, changed_by, changed_at, created_at)
    values (${key.orgId}, ${key.workspaceId}, ${key.name}, ${row.version}, ${row.ref.backend},
            ${JSON.stringify(row.ref)}::jsonb, ${row.changedBy}, ${row.at}, ${row.at})
    on conflict (org_id, workspace_id, name) do update set version = excluded.version,
      backend = excluded.backend, ref = excluded.ref, changed_by = excluded.changed_by,
      changed_at = excluded.changed_at`.execute(trx);
}

export async function deleteSecretRow(trx: AnyDatabase, key: SecretKey): Promise<void> {
  await sql`delete from secrets where org_id = ${key.orgId} and workspace_id = ${key.workspaceId}
            and name = ${key.name}`.execute(trx);
}

/** What the projection knows about a runtime (undefined: no event about it was seen). */
export async function runtimeFacts(db: AnyDatabase, runtimeId: string): Promise<RuntimeFacts | undefined> {
  const { rows } = await sql<{
    org_id: string;
    workspace_id: string;
    state: 'waking' | 'ended';
    trigger: 'api' | 'devlink' | null;
    declared: string[];
    devlink_wake_secrets: boolean;
  }>`select org_id, workspace_id, state, trigger, declared, devlink_wake_secrets from runtimes
     where runtime_id = ${runtimeId}`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  return {
    orgId: row.org_id,
    workspaceId: row.workspace_id,
    state: row.state,
    trigger: row.trigger ?? undefined,
    declared: row.declared,
    devlinkWakeSecrets: row.devlink_wake_secrets,
  };
}
