import { auditService } from '@palisade/audit';
import { authorizationService } from '@palisade/authorization';
import { createDatabase, runMigrations } from '@palisade/persistence';
import { testDatabase } from '@palisade/testing';
import type { TestDatabase } from '@palisade/testing';
import { Client } from 'pg';
import { ALL_TARGETS } from '../src/targets';
import { serviceLogins } from '@palisade/runtime';

/**
 * Each service's own login, as `palisade migrate` leaves it (the same step `palisade dev` and
 * the chart's migration Job run): what a service taken over by an attacker could do in Postgres.
 */
describe('per-service Postgres roles', () => {
  let database: TestDatabase;
  const clients = new Map<string, Client>();

  beforeAll(async () => {
    database = await testDatabase();
    const logins = serviceLogins(database.url, database.name);
    await logins.serviceEnv(ALL_TARGETS);
    for (const target of ALL_TARGETS) {
      const client = new Client({ connectionString: logins.serviceUrl(target.context.context) });
      await client.connect();
      clients.set(target.context.context, client);
    }
  });

  afterAll(async () => {
    for (const client of clients.values()) await client.end();
    await database?.drop();
  });

  /** Runs a statement as a service's login inside a transaction that is rolled back; returns the SQLSTATE. */
  async function attempt(service: string, statement: string): Promise<string> {
    const client = clients.get(service)!;
    await client.query('begin');
    try {
      await client.query(statement);
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    } finally {
      await client.query('rollback');
    }
  }

  const [appender] = auditService.schemaRoles!;
  const services = ALL_TARGETS.map((t) => [t.context.context, t.context.schema] as const);
  const otherSchema = (schema: string) => services.find(([, s]) => s !== schema)![1];

  it.each(services)('%s reads and writes rows of its own schema', async (service, schema) => {
    expect(await attempt(service, `select count(*) from "${schema}".events`)).toBe('ok');
    expect(await attempt(service, `select count(*) from "${schema}".inbox`)).toBe('ok');
    expect(
      await attempt(
        service,
        `insert into "${schema}".consumer_positions (consumer, producer, last_sequence) values ('c', 'p', 1)`,
      ),
    ).toBe('ok');
  });

  it.each(services)('%s cannot read another service schema', async (service, schema) => {
    const other = otherSchema(schema);
    expect(await attempt(service, `select count(*) from "${other}".events`)).toBe('42501');
    expect(
      await attempt(
        service,
        `insert into "${other}".inbox (consumer, event_id) values ('x', gen_random_uuid())`,
      ),
    ).toBe('42501');
  });

  it.each(services)('%s cannot disable, drop or bypass the event store triggers', async (service, schema) => {
    expect(await attempt(service, `alter table "${schema}".events disable trigger events_append_only`)).toBe(
      '42501',
    );
    expect(await attempt(service, `drop trigger events_append_only on "${schema}".events`)).toBe('42501');
    expect(await attempt(service, `truncate "${schema}".events`)).toBe('42501');
    expect(await attempt(service, `set session_replication_role = replica`)).toBe('42501');
  });

  it.each(services)('%s cannot alter, drop or create tables, schemas or roles', async (service, schema) => {
    expect(await attempt(service, `alter table "${schema}".events add column smuggled text`)).toBe('42501');
    expect(await attempt(service, `drop table "${schema}".inbox`)).toBe('42501');
    expect(await attempt(service, `create table "${schema}".smuggled (x int)`)).toBe('42501');
    expect(await attempt(service, `create schema smuggled`)).toBe('42501');
    expect(await attempt(service, `create role smuggled`)).toBe('42501');
    expect(
      await attempt(service, `insert into "${schema}".kysely_migration (name, timestamp) values ('x', 'y')`),
    ).toBe('42501');
  });

  it.each(services.filter(([service]) => service !== 'identity'))(
    "%s cannot select identity's signing keys",
    async (service) => {
      expect(await attempt(service, 'select private_pkcs8 from identity.signing_keys')).toBe('42501');
    },
  );

  it('no service owns a table: the migration role owns them all, audit log included', async () => {
    const admin = new Client({ connectionString: database.url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ owner: string; n: number }>(
        `select tableowner as owner, count(*)::int as n from pg_tables
         where schemaname = any($1) group by tableowner`,
        [services.map(([, schema]) => schema)],
      );
      expect(rows.map((r) => r.owner)).toEqual([`${database.name}_migrator`]);
      const { rows: superusers } = await admin.query<{ rolname: string }>(
        `select rolname from pg_roles where rolname like $1 and (rolsuper or rolcreaterole or rolcreatedb or rolbypassrls)`,
        [`${database.name}\\_%`],
      );
      expect(superusers).toEqual([]);
    } finally {
      await admin.end();
    }
  });

  it('audit writes its log only as the appender, which may only add rows', async () => {
    expect(await attempt('audit', 'select count(*) from audit.audit_log')).toBe('ok');
    for (const [table, column] of [
      ['audit_log', 'hash'],
      ['audit_merkle_nodes', 'hash'],
      ['audit_checkpoints', 'root_hash'],
    ]) {
      expect(await attempt('audit', `delete from audit.${table}`)).toBe('42501');
      expect(await attempt('audit', `update audit.${table} set ${column} = ${column}`)).toBe('42501');
    }
    expect(
      await attempt(
        'audit',
        `insert into audit.audit_merkle_nodes (level, idx, hash) values (0, 0, '\\x00'::bytea)`,
      ),
    ).toBe('42501');
    const asAppender = (statement: string) => attempt('audit', `set local role ${appender}; ${statement}`);
    expect(await asAppender(`select count(*) from audit.audit_log`)).toBe('ok');
    expect(await asAppender(`update audit.audit_merkle_nodes set hash = hash`)).toBe('42501');
    expect(await asAppender(`alter table audit.audit_log disable trigger audit_log_append_only`)).toBe(
      '42501',
    );
    // Only audit's login may take the appender role.
    expect(await attempt('identity', `set local role ${appender}`)).toBe('42501');
  });

  it('takes over a schema that an older version migrated as the shared superuser', async () => {
    const old = await testDatabase();
    try {
      // What services did before: migrate their own schema at start, as the one login they had.
      const db = createDatabase({ url: old.url, schema: 'authorization', poolSize: 1 });
      await runMigrations(db, 'authorization', authorizationService.migrations);
      await db.destroy();
      const logins = serviceLogins(old.url, old.name);
      await logins.serviceEnv([authorizationService]);
      const login = new Client({ connectionString: logins.serviceUrl('authorization') });
      await login.connect();
      try {
        await login.query(
          `insert into "authorization".consumer_positions (consumer, producer, last_sequence) values ('c', 'p', 1)`,
        );
        await expect(
          login.query(`alter table "authorization".events add column smuggled text`),
        ).rejects.toMatchObject({
          code: '42501',
        });
      } finally {
        await login.end();
      }
      const admin = new Client({ connectionString: old.url });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ owner: string }>(
          `select distinct tableowner as owner from pg_tables where schemaname = 'authorization'`,
        );
        expect(rows).toEqual([{ owner: `${old.name}_migrator` }]);
      } finally {
        await admin.end();
      }
    } finally {
      await old.drop();
    }
  });
});
