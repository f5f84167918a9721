import { MigrationSet } from '@palisade/persistence';
import { sql } from 'kysely';

/**
 * The secrets service's own tables: secret metadata with the backend reference (never a value),
 * the local store's envelopes and master key ids, and its projection of the runtime-scheduler's
 * workspaces and runtimes.
 */
export const secretsTables: MigrationSet = {
  '202612021000_secrets_tables': {
    async up(db) {
      // One row per secret that exists: what `list` shows and where its current value lives.
      await sql`create table secrets (
        org_id text not null,
        workspace_id text not null,
        name text not null,
        version int not null,
        backend text not null check (backend in ('local', 'ssm')),
        ref jsonb not null,
        changed_by text not null,
        changed_at timestamptz not null,
        created_at timestamptz not null,
        primary key (org_id, workspace_id, name)
      )`.execute(db);

      // The local store: master keys by id (the keys themselves are in the key file), one current.
      await sql`create table local_master_keys (
        key_id text primary key,
        state text not null check (state in ('current', 'retiring')),
        check_value bytea not null,
        created_at timestamptz not null default now()
      )`.execute(db);
      await sql`create unique index local_master_keys_one_current on local_master_keys (state)
                where state = 'current'`.execute(db);
      // AES-256-GCM envelopes: the value under its own data key, the data key wrapped by a master key.
      await sql`create table local_values (
        org_id text not null,
        workspace_id text not null,
        name text not null,
        version int not null,
        key_id text not null references local_master_keys (key_id),
        wrapped_key bytea not null,
        iv bytea not null,
        ciphertext bytea not null,
        tag bytea not null,
        created_at timestamptz not null default now(),
        primary key (org_id, workspace_id, name, version)
      )`.execute(db);
      await sql`create index local_values_by_key on local_values (key_id)`.execute(db);

      // Projection of the runtime-scheduler's events: what each workspace declares ...
      await sql`create table workspaces (
        org_id text not null,
        workspace_id text not null,
        declared text[] not null,
        devlink_wake_secrets boolean not null,
        deleted boolean not null default false,
        source_sequence bigint not null,
        primary key (org_id, workspace_id)
      )`.execute(db);
      // ... and each runtime: waking from wake_requested until started, slept or failed.
      // `declared` and `devlink_wake_secrets` are the manifest's as of the wake.
      await sql`create table runtimes (
        runtime_id uuid primary key,
        org_id text not null,
        workspace_id text not null,
        trigger text,
        state text not null check (state in ('waking', 'ended')),
        declared text[] not null default '{}',
        devlink_wake_secrets boolean not null default false,
        source_sequence bigint not null
      )`.execute(db);
    },
  },
};
