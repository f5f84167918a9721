import { Kysely, sql } from 'kysely';
import { AUDIT } from '@palisade/contracts';

/**
 * The append-only audit log, its Merkle nodes and signed checkpoints. Each table refuses UPDATE,
 * DELETE and TRUNCATE by trigger, and the service appends as AUDIT_APPENDER_ROLE, which is
 * granted SELECT and INSERT on them and nothing else.
 */

/** The role the service appends as (`set local role`); it has no UPDATE, DELETE or TRUNCATE on the log. */
export const AUDIT_APPENDER_ROLE = 'palisade_audit_appender';

const APPEND_ONLY_TABLES = ['audit_log', 'audit_merkle_nodes', 'audit_checkpoints'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before (and regardless of) any typed schema
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table audit_log (
      sequence bigint primary key check (sequence >= 1),
      event_id uuid not null unique,
      event_time timestamptz not null,
      type text not null,
      org_id text not null,
      actor text not null,
      subject text not null,
      -- which producer emitted it, and at which of its sequence numbers
      producer text not null,
      producer_sequence bigint not null,
      recorded_at timestamptz not null default now(),
      -- RFC 8785 canonical JSON of the whole envelope, its SHA-256, and the chain
      canonical text not null,
      checksum bytea not null check (octet_length(checksum) = 32),
      prev_hash bytea not null check (octet_length(prev_hash) = 32),
      hash bytea not null check (octet_length(hash) = 32)
    )`.execute(db);
  // Every read is scoped to one organization, in log order (the query API); time, actor, type and
  // subject filter within it. No other index: each one slows every append.
  await sql`create index audit_log_org on audit_log (org_id, sequence)`.execute(db);
  // Perfect subtrees of the RFC 6962 tree over the entry hashes, above the leaves (a leaf is
  // SHA-256(0x00 || audit_log.hash), derived when needed): (level, index) covers leaves
  await sql`
    create table audit_merkle_nodes (
      level smallint not null check (level >= 0 and level < 63),
      idx bigint not null check (idx >= 0),
      hash bytea not null check (octet_length(hash) = 32),
      primary key (level, idx)
    )`.execute(db);
  await sql`
    create table audit_checkpoints (
      position bigint generated always as identity primary key,
      tree_size bigint not null unique check (tree_size >= 1),
      root_hash bytea not null,
      last_entry_hash bytea not null,
      issued_at timestamptz not null,
      key_id text not null,
      signature text not null
    )`.execute(db);
  // dev and demo only: the checkpoint key generated on first start (production sets AUDIT_SIGNING_KEY).
  await sql`
    create table audit_generated_keys (
      key_id text primary key,
      private_key_pem text not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  // How far the ClickHouse exporter got (the log is in sequence order; it resumes after this).
  await sql`
    create table audit_export_state (
      exporter text primary key,
      exported_through bigint not null default 0
    )`.execute(db);

  await sql`
    create function audit_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'the audit log is append-only: % on % refused', tg_op, tg_table_name using errcode = '42501';
    end $$`.execute(db);
  for (const table of APPEND_ONLY_TABLES) {
    await sql`
      create trigger ${sql.ref(`${table}_append_only`)} before update or delete on ${sql.table(table)}
      for each row execute function audit_refuse_change()`.execute(db);
    await sql`
      create trigger ${sql.ref(`${table}_no_truncate`)} before truncate on ${sql.table(table)}
      for each statement execute function audit_refuse_change()`.execute(db);
  }

  // Roles are cluster-wide: create it once, tolerate a concurrent creation by another database.
  await sql`
    do $$
    begin
      if not exists (select 1 from pg_roles where rolname = ${sql.lit(AUDIT_APPENDER_ROLE)}) then
        create role ${sql.raw(AUDIT_APPENDER_ROLE)} nologin;
      end if;
    exception when duplicate_object or unique_violation then null;
    end $$`.execute(db);
  const role = sql.raw(AUDIT_APPENDER_ROLE);
  // The service's own user takes the role with `set local role`; a superuser needs no membership, and
  // a failure here must not abort the migration's transaction (hence the block with a handler).
  await sql`
    do $$
    begin
      execute format('grant %I to %I', ${sql.lit(AUDIT_APPENDER_ROLE)}, current_user);
    exception when others then null;
    end $$`.execute(db);
  await sql`grant usage on schema ${sql.id(AUDIT.schema)} to ${role}`.execute(db);
  await sql`grant usage on all sequences in schema ${sql.id(AUDIT.schema)} to ${role}`.execute(db);
  await sql`grant select, insert on ${sql.raw(APPEND_ONLY_TABLES.join(', '))} to ${role}`.execute(db);
  // What a consumer transaction and a checkpoint's event append also touch (the library's tables).
  await sql`grant select, insert, update, delete on inbox, consumer_positions, consumer_sequences to ${role}`.execute(
    db,
  );
  await sql`grant select, insert, update on streams to ${role}`.execute(db);
  await sql`grant select, insert on events, outbox to ${role}`.execute(db);
  await sql`grant select on audit_generated_keys, audit_export_state to ${role}`.execute(db);
}
