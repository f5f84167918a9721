import { Client } from 'pg';
import { sql } from 'kysely';
import { createDatabase } from './database';
import { MigrationError, MigrationSet, runMigrations, LIBRARY_MIGRATION_NAMES } from './migrations';
import type { AnyDatabase } from './database';

/**
 * Least privilege in Postgres. Three kinds of login:
 * - the admin (a superuser, or an owner with CREATEROLE) only provisions: it creates the others;
 * - the migration role owns every schema and table and runs the migrations; no service uses it;
 * - each service's own login may use its own schema and read and write its tables' rows: no
 *   other schema, no DDL, no TRUNCATE, no trigger switching (those need the owner).
 * Role names and passwords come from the connection URLs (`MIGRATION_DATABASE_URL`,
 * `<SERVICE>_DATABASE_URL`), so an operator configures each login exactly once.
 */

/** One service's part of the database: its schema, its migrations, and roles it switches to. */
export interface ServiceSchema {
  /** kebab-case service name, e.g. runtime-scheduler. */
  service: string;
  schema: string;
  /** The service's migrations (the persistence library's own run first). */
  migrations?: MigrationSet;
  /**
   * NOLOGIN roles the service's migrations grant rights to and that the service takes with
   * `set local role` (audit's appender); provisioning creates them and makes the login a member.
   */
  roles?: readonly string[];
}

export interface DatabasePlan {
  /**
   * An admin connection to the database (superuser, or CREATEROLE and owner of the database).
   * When given, the migration role, the service logins, their passwords and the schemas are
   * created or brought up to date first; without it they must exist (see docs/operations.md).
   */
  adminUrl?: string;
  /** The migration role's connection URL; its user owns every schema. */
  migratorUrl: string;
  /** Each service with its login's URL (user and password); the login is created when provisioning. */
  services: readonly { schema: ServiceSchema; url: string }[];
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** `runtime-scheduler` → `palisade_runtime_scheduler`: a service's login where the operator names none. */
export function defaultServiceRole(service: string): string {
  return `palisade_${service.replace(/-/g, '_')}`;
}

/** The role that owns the schemas and runs the migrations, by default. */
export const DEFAULT_MIGRATION_ROLE = 'palisade_migrator';

/** Rows only: what a service's login may do with its own tables. */
const SERVICE_TABLE_RIGHTS = 'select, insert, update, delete';

/**
 * The init step (`palisade migrate`, run by `palisade dev` before the services start and by the
 * chart's migration Job): provisions the roles when an admin URL is given, then migrates each
 * service's schema as the migration role and grants the service's login its rows.
 */
export async function migrateDatabase(plan: DatabasePlan): Promise<void> {
  const log = plan.log ?? (() => undefined);
  const migrator = credentials(plan.migratorUrl);
  const services = plan.services.map((entry) => ({ ...entry.schema, login: credentials(entry.url) }));
  if (plan.adminUrl) {
    await provisionRoles(plan.adminUrl, migrator, services);
    log(`roles: ${migrator.role} (migrations) and ${services.map((s) => s.login.role).join(', ')}`);
  }
  for (const service of services) {
    const db = createDatabase({
      url: plan.migratorUrl,
      schema: service.schema,
      poolSize: 1,
      applicationName: 'palisade-migrate',
    });
    try {
      await grantServiceLogin(db, service.schema, service.login.role);
      const result = await runMigrations(db, service.schema, service.migrations);
      await sql`revoke insert, update, delete, truncate on kysely_migration from ${sql.id(service.login.role)}`.execute(
        db,
      );
      await sql`revoke all on kysely_migration_lock from ${sql.id(service.login.role)}`.execute(db);
      const applied = result.results?.filter((r) => r.status === 'Success').length ?? 0;
      log(
        `${service.service}: schema ${service.schema} ${applied ? `migrated (${applied} applied)` : 'up to date'}`,
      );
    } finally {
      await db.destroy();
    }
  }
}

/**
 * Default privileges, so every table a migration creates is readable and writable (rows only)
 * by the service's login; a migration may narrow them for its own tables afterwards (audit's
 * append-only log does). The migration bookkeeping is the migrator's alone (the login reads it
 * to check at start that its schema is current).
 */
async function grantServiceLogin(db: AnyDatabase, schema: string, login: string): Promise<void> {
  const s = sql.id(schema);
  const l = sql.id(login);
  await sql`create schema if not exists ${s}`.execute(db);
  await sql`grant usage on schema ${s} to ${l}`.execute(db);
  await sql`alter default privileges in schema ${s} grant ${sql.raw(SERVICE_TABLE_RIGHTS)} on tables to ${l}`.execute(
    db,
  );
  await sql`alter default privileges in schema ${s} grant usage, select on sequences to ${l}`.execute(db);
}

interface Credentials {
  role: string;
  password: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function credentials(url: string): Credentials {
  const parsed = new URL(url);
  const role = decodeURIComponent(parsed.username);
  if (!NAME.test(role))
    throw new MigrationError(
      `a database URL's user must be a plain role name (letters, digits, _), one login per service`,
    );
  return { role, password: decodeURIComponent(parsed.password) };
}

/** As the admin: the logins (with their passwords), the schemas owned by the migrator, memberships. */
async function provisionRoles(
  adminUrl: string,
  migrator: Credentials,
  services: readonly (ServiceSchema & { login: Credentials })[],
): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const id = (name: string) => client.escapeIdentifier(name);
    const ensureRole = async (role: string, attributes: string) => {
      await ignoreConcurrent(() =>
        client.query(
          `do $$ begin
             if not exists (select 1 from pg_roles where rolname = ${client.escapeLiteral(role)}) then
               create role ${id(role)} ${attributes};
             end if;
           end $$`,
        ),
      );
    };
    const login = async ({ role, password }: Credentials) => {
      if (!password) throw new MigrationError(`the URL of ${role} has no password; provisioning sets it`);
      await ensureRole(role, 'login');
      await client.query(
        `alter role ${id(role)} with login nosuperuser nocreatedb nocreaterole noinherit password ${client.escapeLiteral(password)}`,
      );
    };
    await login(migrator);
    const database = (await client.query<{ name: string }>('select current_database() as name')).rows[0].name;
    await client.query(`grant connect, create on database ${id(database)} to ${id(migrator.role)}`);
    for (const service of services) {
      if (service.login.role === migrator.role)
        throw new MigrationError(
          `${service.service} must not connect as the migration role ${migrator.role}`,
        );
      await login(service.login);
      // The login does not inherit these roles' rights: it holds them only after `set local role`.
      for (const role of service.roles ?? []) {
        await ensureRole(role, 'nologin');
        await client.query(`grant ${id(role)} to ${id(service.login.role)}`);
      }
      await adoptSchema(client, service.schema, migrator.role, service.login.role);
    }
  } finally {
    await client.end();
  }
}

/**
 * The schema, and everything in it, owned by the migrator. A schema made before service roles
 * existed (by a service that migrated itself) is handed over, and its tables granted to the
 * login as the default privileges would have.
 */
async function adoptSchema(client: Client, schema: string, migrator: string, login: string): Promise<void> {
  if (!NAME.test(schema)) throw new MigrationError(`schema name "${schema}" must be a plain identifier`);
  const owner = await client.query<{ owner: string }>(
    'select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = $1',
    [schema],
  );
  if (owner.rows.length === 0) {
    await ignoreConcurrent(() =>
      client.query(
        `create schema if not exists ${client.escapeIdentifier(schema)} authorization ${client.escapeIdentifier(migrator)}`,
      ),
    );
    return;
  }
  if (owner.rows[0].owner === migrator) return;
  await client.query(
    `do $$
     declare
       item record;
     begin
       execute format('alter schema %I owner to %I', $s$${schema}$s$, $m$${migrator}$m$);
       for item in
         select c.relname, c.relkind from pg_class c
         where c.relnamespace = $s$${schema}$s$::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'S')
           and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i') and c.relkind = 'S')
       loop
         execute format('alter %s %I.%I owner to %I',
           case item.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'materialized view' else 'table' end,
           $s$${schema}$s$, item.relname, $m$${migrator}$m$);
       end loop;
       for item in select p.oid::regprocedure as fn from pg_proc p where p.pronamespace = $s$${schema}$s$::regnamespace
       loop
         execute format('alter function %s owner to %I', item.fn, $m$${migrator}$m$);
       end loop;
       execute format('grant ${SERVICE_TABLE_RIGHTS} on all tables in schema %I to %I', $s$${schema}$s$, $l$${login}$l$);
       execute format('grant usage, select on all sequences in schema %I to %I', $s$${schema}$s$, $l$${login}$l$);
     end $$`,
  );
}

/** Two replicas (or test workers) creating the same role or schema at once: one loses, the object exists. */
async function ignoreConcurrent(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!['42710', '23505', '42P06'].includes((error as { code?: string }).code ?? '')) throw error;
  }
}

/**
 * At a service's start, instead of migrating: the schema must hold every migration this code
 * knows (the migration role applied them with `palisade migrate`).
 */
export async function verifyMigrated(
  db: AnyDatabase,
  schema: string,
  migrations: MigrationSet = {},
): Promise<void> {
  const expected = [...LIBRARY_MIGRATION_NAMES, ...Object.keys(migrations)];
  let applied: string[];
  try {
    const { rows } = await sql<{
      name: string;
    }>`select name from ${sql.id(schema, 'kysely_migration')}`.execute(db);
    applied = rows.map((row) => row.name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== '42P01' && code !== '3F000' && code !== '42501') throw error;
    applied = [];
  }
  const missing = expected.filter((name) => !applied.includes(name));
  if (missing.length > 0) {
    throw new MigrationError(
      `schema ${schema} is not migrated (missing ${missing.join(', ')}): run \`palisade migrate\` ` +
        `(with MIGRATION_DATABASE_URL) before starting the service; services do not migrate their own schema`,
    );
  }
}
