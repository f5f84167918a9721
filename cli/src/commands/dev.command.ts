import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensureGoTool, InstalledTool, MissingDependencyError, NATS_SERVER_TOOL } from '@palisade/config';
import { upperSnake } from '@palisade/contracts';
import { startEmbeddedPostgres, startNatsServer } from '@palisade/embedded';
import { DEFAULT_MIGRATION_ROLE } from '@palisade/persistence';
import { natsAuthorizationConfig, servicePermissions } from '@palisade/messaging';
import { runUntilSignal } from '@palisade/runtime';
import { ALL_TARGETS } from '../targets';
import { chooseDevEngine, DevEngine } from './dev-engine';
import { devLogins, DevLogins, prepareDevDatabase } from './dev-database';

interface DevSecrets {
  /** The Postgres admin's (it only provisions; no service connects as it). */
  postgresPassword: string;
  /** The migration role's and each service's own login, by role. */
  postgresLogins: DevLogins;
  nats: Record<string, string>;
}

const DEFAULT_HTTP_PORT = 8080;

/**
 * `palisade dev`: the embedded default. A nats-server child (JetStream, one user per service),
 * an embedded Postgres and all seven services in this process; data under one folder, reused
 * by the next start. Nothing starts until every prerequisite is there.
 */
export async function devCommand(options: {
  dataDir?: string;
  port?: number;
  engine?: boolean;
}): Promise<number> {
  const home = path.resolve(options.dataDir ?? '.palisade');
  let natsServer: InstalledTool;
  let engine: DevEngine;
  try {
    natsServer = ensureGoTool(NATS_SERVER_TOOL);
    engine = await chooseDevEngine(home, options.engine ?? true);
  } catch (error) {
    if (error instanceof MissingDependencyError) {
      process.stderr.write(`palisade dev cannot start.\n${error.message}\n`);
      return 1;
    }
    throw error;
  }
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const lock = acquireLock(home);
  const cleanups: Array<() => Promise<void>> = [lock.release];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const secrets = loadOrCreateSecrets(home);
    const users = ALL_TARGETS.map((t) => ({
      user: t.context.context,
      password: secrets.nats[t.context.context],
      permissions: servicePermissions(t.context),
    }));
    const nats = await startNatsServer({
      dataDir: path.join(home, 'nats'),
      configText: natsAuthorizationConfig(users),
      binary: natsServer.path,
      logFile: path.join(home, 'nats.log'),
      detached: true,
    });
    cleanups.push(() => nats.stop());
    const postgres = await startEmbeddedPostgres({
      dataDir: path.join(home, 'postgres'),
      password: secrets.postgresPassword,
      detached: true,
    });
    cleanups.push(() => postgres.stop());
    const adminUrl = await postgres.createDatabase('palisade');
    // Migrations run here, as the migration role; each service then connects as its own login.
    const database = await prepareDevDatabase(adminUrl, ALL_TARGETS, secrets.postgresLogins);
    writePrivate(
      path.join(home, 'dev.env'),
      Object.entries({
        NATS_URL: nats.url,
        DATABASE_ADMIN_URL: adminUrl,
        MIGRATION_DATABASE_URL: database.migratorUrl,
        ...database.env,
      })
        .map(([key, value]) => `${key}=${value}\n`)
        .join(''),
    );

    const env: Record<string, string | undefined> = {
      ...process.env,
      PALISADE_MODE: process.env.PALISADE_MODE ?? 'dev',
      ...engine.env,
      DATABASE_URL: undefined,
      ...database.env,
      NATS_URL: nats.url,
      // The first admin's one-time credential (mode 0600) lives with the rest of the dev data.
      IDENTITY_BOOTSTRAP_FILE: process.env.IDENTITY_BOOTSTRAP_FILE ?? path.join(home, 'bootstrap-admin.json'),
      // So does the key that encrypts identity's signing keys (outside the database).
      IDENTITY_KEY_ENCRYPTION_KEY_FILE:
        process.env.IDENTITY_KEY_ENCRYPTION_KEY_FILE ?? path.join(home, 'identity-key-encryption.key'),
      // The local secrets store's master key (0600; `palisade secret rotate-key` rotates it).
      SECRETS_MASTER_KEY_FILE: process.env.SECRETS_MASTER_KEY_FILE ?? path.join(home, 'secrets-master.key'),
      HTTP_PORT: String(
        options.port ?? (process.env.HTTP_PORT ? Number(process.env.HTTP_PORT) : DEFAULT_HTTP_PORT),
      ),
    };
    for (const user of users) {
      env[`${upperSnake(user.user)}_NATS_USER`] = user.user;
      env[`${upperSnake(user.user)}_NATS_PASSWORD`] = user.password;
    }
    return await runUntilSignal(ALL_TARGETS, env, (url) =>
      [
        `Palisade is running (dev mode, all ${ALL_TARGETS.length} services in one process).`,
        `  API        ${url}/v1   (OpenAPI: ${url}/docs)`,
        `  health     ${url}/healthz  ${url}/readyz   metrics ${url}/metrics`,
        `  NATS       ${nats.url}   Postgres 127.0.0.1:${postgres.port}  (credentials in ${path.join(home, 'dev.env')})`,
        `  traffic    loopback only, without TLS (dev); Postgres: one login per service, migrated as ${DEFAULT_MIGRATION_ROLE}`,
        `  data       ${home}  (kept; the next start reuses it)`,
        `  ${natsServer.describe()}`,
        `  engine     ${engine.line}`,
        `  first admin: palisade login --url ${url} --bootstrap-file ${env.IDENTITY_BOOTSTRAP_FILE}`,
        `Press Ctrl-C to stop.`,
      ].join('\n'),
    );
  } finally {
    await cleanup();
  }
}

function writePrivate(file: string, content: string): void {
  fs.writeFileSync(file, content, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

function loadOrCreateSecrets(home: string): DevSecrets {
  const file = path.join(home, 'secrets.json');
  const existing: Partial<DevSecrets> = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const secret = () => randomBytes(24).toString('base64url');
  const secrets: DevSecrets = {
    postgresPassword: existing.postgresPassword ?? secret(),
    postgresLogins: devLogins(ALL_TARGETS, existing.postgresLogins),
    nats: Object.fromEntries(
      ALL_TARGETS.map((t) => [t.context.context, existing.nats?.[t.context.context] ?? secret()]),
    ),
  };
  writePrivate(file, JSON.stringify(secrets, null, 2));
  return secrets;
}

/** One `palisade dev` per data folder; a lock left by a dead process is taken over. */
function acquireLock(home: string): { release: () => Promise<void> } {
  const file = path.join(home, 'dev.pid');
  if (fs.existsSync(file)) {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new Error(
        `another "palisade dev" (pid ${pid}) is using ${home}; stop it first or pass --data-dir`,
      );
    }
  }
  writePrivate(file, String(process.pid));
  return { release: async () => fs.rmSync(file, { force: true }) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
