import { ConfigError, loadConfig, postgresUrlField, serviceEnvPrefix } from '@palisade/config';
import { defaultServiceRole, migrateDatabase, MigrationError } from '@palisade/persistence';
import { serviceSchemaOf, ServiceDefinition } from '@palisade/runtime';
import { z } from 'zod';
import { ALL_TARGETS, selectTargets } from '../targets';

/** The environment of `palisade migrate` for these services, as one schema. */
export function migrateConfigSchema(targets: readonly ServiceDefinition[]) {
  const loginKeys = targets.map((t) => `${serviceEnvPrefix(t.context.context)}_DATABASE_URL`);
  return z
    .object({
      /** The migration role: owns every schema, runs the migrations; no service uses it. */
      MIGRATION_DATABASE_URL: postgresUrlField(),
      /** An admin (superuser, or CREATEROLE and owner of the database): when set, the roles are created first. */
      DATABASE_ADMIN_URL: postgresUrlField().optional(),
      ...Object.fromEntries(loginKeys.map((key) => [key, postgresUrlField().optional()])),
    })
    .superRefine((value, ctx) => {
      if (value.DATABASE_ADMIN_URL === undefined) return;
      for (const key of loginKeys) {
        if ((value as Record<string, unknown>)[key] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'is required with DATABASE_ADMIN_URL (its user and password become the service login)',
            params: { fix: `set ${key} to the URL the service will connect with` },
          });
      }
    });
}

/**
 * `palisade migrate [--target a,b]`: the init step before services start. With
 * DATABASE_ADMIN_URL it creates the migration role and each service's login (from the users and
 * passwords in MIGRATION_DATABASE_URL and `<SERVICE>_DATABASE_URL`); then, as the migration role,
 * migrates each schema and grants the service's login its rows.
 */
export async function migrateCommand(options: { targets?: string }): Promise<number> {
  const targets = options.targets ? selectTargets(options.targets) : ALL_TARGETS;
  let config: Record<string, string | undefined>;
  try {
    config = loadConfig(migrateConfigSchema(targets), process.env) as Record<string, string | undefined>;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 78;
  }
  const migratorUrl = config.MIGRATION_DATABASE_URL!;
  try {
    await migrateDatabase({
      adminUrl: config.DATABASE_ADMIN_URL,
      migratorUrl,
      services: targets.map((target) => ({
        schema: serviceSchemaOf(target),
        url:
          config[`${serviceEnvPrefix(target.context.context)}_DATABASE_URL`] ??
          withUser(migratorUrl, defaultServiceRole(target.context.context)),
      })),
      log: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error;
    process.stderr.write(`palisade migrate: ${error.message}\n`);
    return 1;
  }
  return 0;
}

/** The migrator's URL with another user and no password: names a login without connecting as it. */
function withUser(url: string, user: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = '';
  return parsed.toString();
}
