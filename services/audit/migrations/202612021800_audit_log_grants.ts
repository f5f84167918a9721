import { Kysely, sql } from 'kysely';
import { AUDIT_APPENDER_ROLE } from './202611250500_audit_log';

/**
 * The append-only tables are written only through AUDIT_APPENDER_ROLE (the service's
 * `set local role` while it appends). Any other login (the service's own, given rows in its
 * schema by default) keeps SELECT on them and nothing else; their owner is the migration role,
 * which no running service uses, so no service can drop the triggers either.
 */
const APPEND_ONLY_TABLES = ['audit_log', 'audit_merkle_nodes', 'audit_checkpoints'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run before (and regardless of) any typed schema
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    do $$
    declare
      grant_row record;
    begin
      for grant_row in
        select distinct c.relname, a.grantee::regrole::text as grantee
        from pg_class c, aclexplode(c.relacl) a
        where c.relnamespace = current_schema()::regnamespace
          and c.relname = any(${sql.lit(`{${APPEND_ONLY_TABLES.join(',')}}`)}::text[])
          and a.grantee <> c.relowner and a.grantee <> 0
          and a.grantee <> ${sql.lit(AUDIT_APPENDER_ROLE)}::regrole
          and a.privilege_type in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
      loop
        execute format('revoke insert, update, delete, truncate on %I from %s', grant_row.relname, grant_row.grantee);
      end loop;
    end $$`.execute(db);
}
