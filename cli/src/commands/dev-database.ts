import { randomBytes } from 'node:crypto';
import { serviceEnvPrefix } from '@palisade/config';
import { DEFAULT_MIGRATION_ROLE, defaultServiceRole, migrateDatabase } from '@palisade/persistence';
import { serviceSchemaOf, ServiceDefinition } from '@palisade/runtime';

/** Passwords of the dev database's logins, by role (kept in the data folder's secrets.json). */
export type DevLogins = Record<string, string>;

/** Every login `palisade dev` needs, with the stored passwords kept and missing ones generated. */
export function devLogins(targets: readonly ServiceDefinition[], stored: DevLogins = {}): DevLogins {
  const roles = [DEFAULT_MIGRATION_ROLE, ...targets.map((t) => defaultServiceRole(t.context.context))];
  return Object.fromEntries(
    roles.map((role) => [role, stored[role] ?? randomBytes(24).toString('base64url')]),
  );
}

/**
 * `palisade dev`'s database, as production has it: as the admin, a migration role and one login
 * per service; the migrations run as the migration role (`palisade migrate`'s step), and each
 * service gets `<SERVICE>_DATABASE_URL` for its own login. Returns those variables and the
 * migration role's URL.
 */
export async function prepareDevDatabase(
  adminUrl: string,
  targets: readonly ServiceDefinition[],
  logins: DevLogins,
): Promise<{ env: Record<string, string>; migratorUrl: string }> {
  const urlOf = (role: string) => {
    const url = new URL(adminUrl);
    url.username = role;
    url.password = logins[role];
    return url.toString();
  };
  const migratorUrl = urlOf(DEFAULT_MIGRATION_ROLE);
  const services = targets.map((target) => ({
    schema: serviceSchemaOf(target),
    url: urlOf(defaultServiceRole(target.context.context)),
  }));
  await migrateDatabase({ adminUrl, migratorUrl, services });
  return {
    env: Object.fromEntries(
      services.map((s) => [`${serviceEnvPrefix(s.schema.service)}_DATABASE_URL`, s.url] as const),
    ),
    migratorUrl,
  };
}
