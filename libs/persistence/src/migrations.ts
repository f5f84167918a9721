import { Migration, MigrationResultSet, Migrator, sql } from 'kysely';
import { AnyDatabase, quoteIdent } from './database';

/**
 * Migrations: the persistence library's own tables (event store, outbox, inbox) come first,
 * then the service's, all in the service's schema. Names are `<yyyymmddhhmm>_<description>`.
 */

export type MigrationSet = Record<string, Migration>;

const LIBRARY_MIGRATIONS: MigrationSet = {
  '202611230000_persistence_event_store': {
    async up(db) {
      await sql`
        create table streams (
          stream_id text primary key,
          version integer not null check (version >= 0)
        )`.execute(db);
      await sql`
        create table events (
          position bigint generated always as identity primary key,
          stream_id text not null,
          version integer not null,
          -- Ids are UUIDv7 minted by the store; consumers deduplicate through their inboxes.
          event_id uuid not null,
          type text not null,
          org_id text not null,
          subject text not null,
          -- json, not jsonb: validated by the contract before it is written, and kept as the exact
          -- text the relay publishes (no conversion either way).
          envelope json not null,
          traceparent text,
          recorded_at timestamptz not null default now(),
          constraint events_stream_version unique (stream_id, version)
        )`.execute(db);
      // The event store is the source of truth: it only grows.
      await sql`
        create function events_refuse_change() returns trigger language plpgsql as $$
        begin
          raise exception 'the event store is append-only: % refused', tg_op using errcode = '42501';
        end $$`.execute(db);
      await sql`
        create trigger events_append_only before update or delete on events
        for each row execute function events_refuse_change()`.execute(db);
      await sql`
        create trigger events_no_truncate before truncate on events
        for each statement execute function events_refuse_change()`.execute(db);

      // The outbox is a queue of events not yet sequenced (no foreign key: its rows are only
      // inserted by the statement that inserts their events, and the check would cost a third of
      // that statement). `sequences`, append-only, is the producer's gap-free order, which replay
      // requests read. (Since 202611301700_persistence_sequence_at_commit, appends take their
      // sequences as they commit and the outbox is empty outside open transactions.)
      await sql`create table outbox (position bigint primary key)`.execute(db);
      await sql`
        create table sequences (
          sequence bigint primary key,
          position bigint not null
        )`.execute(db);
      // last_sequence: the last sequence assigned; published_through: every sequence up to it
      // is acknowledged by JetStream (the leader publishes in order).
      await sql`
        create table relay_state (
          id boolean primary key default true check (id),
          last_sequence bigint not null default 0,
          published_through bigint not null default 0
        )`.execute(db);
      await sql`insert into relay_state default values`.execute(db);
      // No NOTIFY trigger here: Postgres serializes the commits of transactions that NOTIFY,
      // which caps writes at one fsync per commit. The relay is woken after commit instead
      // (EventStore.afterCommit → OutboxRelay.committed).

      await sql`
        create table inbox (
          consumer text not null,
          event_id uuid not null,
          processed_at timestamptz not null default now(),
          primary key (consumer, event_id)
        )`.execute(db);
      await sql`
        create table consumer_positions (
          consumer text not null,
          producer text not null,
          last_sequence bigint not null,
          primary key (consumer, producer)
        )`.execute(db);
      // Applied sequences above a gap-checking consumer's watermark (usually none).
      await sql`
        create table consumer_sequences (
          consumer text not null,
          producer text not null,
          sequence bigint not null,
          primary key (consumer, producer, sequence)
        )`.execute(db);
    },
  },
  '202611301700_persistence_sequence_at_commit': {
    async up(db) {
      // Appends made outside a transaction take their sequences in their own statement (see
      // EventStore). Appends inside a caller's transaction queue outbox rows; this trigger gives
      // them their sequences as that transaction commits, not before (the counter would stall
      // every writer for as long as the transaction runs) and not after (a later append to the
      // same stream, waiting on the stream's row, would take an earlier sequence than they).
      // The counter is locked last and held only through the commit, so its holder waits for
      // nothing else: no deadlock with writers that lock streams first.
      // Security definer: a caller that may only insert events and outbox rows (the audit
      // appender's role) still gets its events sequenced, and can do nothing else with it.
      const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
      await sql`
        create function outbox_sequence_at_commit() returns trigger language plpgsql security definer
        set search_path = ${sql.id(rows[0].schema)}, pg_catalog, pg_temp as $$
        declare
          taken bigint;
        begin
          update relay_state set last_sequence = last_sequence + 1 returning last_sequence into taken;
          insert into sequences (sequence, position) values (taken, new.position);
          delete from outbox where position = new.position;
          return null;
        end $$`.execute(db);
      await sql`
        create constraint trigger outbox_sequenced_at_commit after insert on outbox
        deferrable initially deferred for each row execute function outbox_sequence_at_commit()`.execute(db);
      // Rows queued before this migration: sequence them now, in their order.
      await sql`
        with state as (select last_sequence from relay_state for update),
        moved as (delete from outbox returning position),
        numbered as (
          select position, (select last_sequence from state) + row_number() over (order by position) as sequence from moved
        ),
        inserted as (insert into sequences (sequence, position) select sequence, position from numbered)
        update relay_state set last_sequence = last_sequence + (select count(*) from moved)`.execute(db);
    },
  },
};

/** The persistence library's own migrations, which every service schema holds. */
export const LIBRARY_MIGRATION_NAMES: readonly string[] = Object.keys(LIBRARY_MIGRATIONS);

/** The LISTEN channel on which an outbox relay is told that a schema's outbox has new rows. */
export function outboxChannel(schema: string): string {
  return `palisade_outbox_${schema}`;
}

export class MigrationError extends Error {
  readonly code = 'migration_failed';
}

/**
 * Creates the schema if needed and runs every pending migration (library first, then the
 * service's). Safe to run from several replicas at once: kysely holds an advisory lock.
 */
export async function runMigrations(
  db: AnyDatabase,
  schema: string,
  serviceMigrations: MigrationSet = {},
): Promise<MigrationResultSet> {
  await createSchema(db, schema);
  for (const name of Object.keys(serviceMigrations)) {
    if (!/^\d{12}_[a-z0-9_]+$/.test(name))
      throw new MigrationError(`migration name "${name}" must look like yyyymmddhhmm_snake_description`);
    if (name in LIBRARY_MIGRATIONS)
      throw new MigrationError(`migration name "${name}" is reserved by the persistence library`);
  }
  const migrations = { ...LIBRARY_MIGRATIONS, ...serviceMigrations };
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: schema,
    allowUnorderedMigrations: true,
  });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(
      `migration ${failed} in schema ${schema} failed: ${(result.error as Error).message ?? result.error}`,
      {
        cause: result.error,
      },
    );
  }
  return result;
}

async function createSchema(db: AnyDatabase, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.raw(quoteIdent(schema))}`.execute(db);
  } catch (error) {
    // Two replicas creating the same schema at once: one gets a unique violation; the schema exists.
    if ((error as { code?: string }).code !== '23505') throw error;
  }
}
