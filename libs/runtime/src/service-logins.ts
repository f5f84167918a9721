import { randomBytes } from 'node:crypto';
import { serviceEnvPrefix } from '@palisade/config';
import { migrateDatabase } from '@palisade/persistence';
import { serviceSchemaOf, ServiceDefinition } from './service-definition';

/** Throwaway logins of one database (tests, benchmarks): a migration role and one login per service. */
export interface ServiceLogins {
  /**
   * Creates the logins (as the admin), migrates these services' schemas as the migration role
   * (what `palisade migrate` does) and returns the environment that makes each service connect
   * as its own login (`<SERVICE>_DATABASE_URL`), as in production.
   */
  serviceEnv(services: readonly ServiceDefinition[]): Promise<Record<string, string>>;
  /** The URL of a service's own login (after serviceEnv). */
  serviceUrl(service: string): string;
  /** A URL for a new login `<prefix>_<suffix>` with a random password (created by whoever provisions it). */
  loginUrl(suffix: string): string;
}

/**
 * Logins for the database at `adminUrl` (a superuser's URL), named `<prefix>_migrator` and
 * `<prefix>_<schema>`, with random passwords. Roles are cluster-wide: give each database its own
 * prefix, and drop the roles with it.
 */
export function serviceLogins(adminUrl: string, prefix: string): ServiceLogins {
  const loginUrl = (suffix: string) => {
    const at = new URL(adminUrl);
    at.username = `${prefix}_${suffix}`;
    at.password = randomBytes(18).toString('base64url');
    return at.toString();
  };
  const logins = new Map<string, string>();
  let migratorUrl: string | undefined;
  return {
    async serviceEnv(services) {
      migratorUrl ??= loginUrl('migrator');
      const plan = services.map((service) => {
        const url = logins.get(service.context.context) ?? loginUrl(service.context.schema);
        logins.set(service.context.context, url);
        return { schema: serviceSchemaOf(service), url };
      });
      await migrateDatabase({ adminUrl, migratorUrl, services: plan });
      return Object.fromEntries(
        plan.map((entry) => [`${serviceEnvPrefix(entry.schema.service)}_DATABASE_URL`, entry.url]),
      );
    },
    serviceUrl(service) {
      const found = logins.get(service);
      if (!found) throw new Error(`no login for ${service}: call serviceEnv with it first`);
      return found;
    },
    loginUrl,
  };
}
