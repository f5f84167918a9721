import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveReplySchema, RUNTIME_SCHEDULER, SECRETS, SECRETS_RPC } from '@palisade/contracts';
import { generateBoxKeyPair, openBox } from '@palisade/crypto';
import type { SecretsEvent } from '@palisade/contracts';
import { inboxPrefix, natsAuthorizationConfig, rpcSubject, servicePermissions } from '@palisade/messaging';
import { createDatabase } from '@palisade/persistence';
import { RunningPalisade, serviceLogins, startPalisade } from '@palisade/runtime';
import { privateNats, testDatabase } from '@palisade/testing';
import { sql } from 'kysely';
import { connect, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { secretsService } from '../src';
import type { SecretKey } from '../src/backends/secret-backend';
import { SecretCommands } from '../src/commands/secret.commands';
import { runtimeSchedulerStandIn, schedulerOf } from './runtime-scheduler.fixture';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * What the secrets integration tests share: a private nats-server whose users have the least
 * privilege of their service, a fresh database, the runtime-scheduler stand-in producing its
 * events, and the secrets service, asked over NATS as the runtime-scheduler asks.
 */
export async function startSecretsHarness(
  env: Record<string, string> = {},
  options: { logger?: Logger } = {},
) {
  const passwords = { secrets: randomUUID(), scheduler: randomUUID(), admin: randomUUID() };
  const nats = await privateNats(
    natsAuthorizationConfig([
      { user: 'secrets', password: passwords.secrets, permissions: servicePermissions(SECRETS) },
      {
        user: 'runtime-scheduler',
        password: passwords.scheduler,
        permissions: servicePermissions(RUNTIME_SCHEDULER),
      },
      // The test's own eyes on the streams.
      { user: 'admin', password: passwords.admin },
    ]),
  );
  const database = await testDatabase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-secrets-'));
  const keyFile = path.join(dir, 'secrets-master.key');
  const services = [runtimeSchedulerStandIn, secretsService];
  // Migrated as the migration role; each service connects as its own login, as in production.
  const logins = serviceLogins(database.url, database.name);
  const baseEnv = {
    ...(await logins.serviceEnv(services)),
    NATS_URL: nats.url,
    SECRETS_NATS_USER: 'secrets',
    SECRETS_NATS_PASSWORD: passwords.secrets,
    RUNTIME_SCHEDULER_NATS_USER: 'runtime-scheduler',
    RUNTIME_SCHEDULER_NATS_PASSWORD: passwords.scheduler,
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    SECRETS_MASTER_KEY_FILE: keyFile,
    SECRETS_RESOLVE_WAIT_MS: '1000',
    ...env,
  };
  const start = () =>
    startPalisade({
      services,
      env: baseEnv,
      logger: options.logger,
    });
  let running: RunningPalisade = await start();
  const caller: NatsConnection = await connect({
    servers: nats.url,
    user: 'runtime-scheduler',
    pass: passwords.scheduler,
    inboxPrefix: inboxPrefix(RUNTIME_SCHEDULER),
  });
  const admin = await connect({ servers: nats.url, user: 'admin', pass: passwords.admin });
  const db = createDatabase({ url: database.url, schema: SECRETS.schema, poolSize: 2 });

  return {
    nats,
    database,
    /** The secrets service's own login (what `palisade secret rotate-key` connects as). */
    secretsUrl: logins.serviceUrl(SECRETS.context),
    keyFile,
    env: baseEnv,
    db,
    admin,
    get running() {
      return running;
    },
    get scheduler() {
      return schedulerOf(running.app);
    },
    /** Sets a value as the member `olga` would through the API. */
    set(key: SecretKey, value: string) {
      return running.app
        .get(SecretCommands, { strict: false })
        .set(key, value, 'olga', 'user:olga', Date.now());
    },
    /** Deletes a secret as `olga`. */
    delete(key: SecretKey) {
      return running.app.get(SecretCommands, { strict: false }).delete(key, 'olga', 'user:olga');
    },
    /** Stops the services and starts them again on the same database, NATS and key file. */
    async restart() {
      await running.stop();
      running = await start();
    },
    /** Asks `rpc.secrets.resolve` as the runtime-scheduler does; the raw JSON reply. */
    async resolve(body: unknown): Promise<Record<string, unknown>> {
      const data = body instanceof Uint8Array ? body : encoder.encode(JSON.stringify(body));
      const reply = await caller.request(rpcSubject(SECRETS, SECRETS_RPC.resolve), data, { timeout: 5_000 });
      return JSON.parse(decoder.decode(reply.data)) as Record<string, unknown>;
    },
    /**
     * A wake of the workspace, then a resolve of `inputs` as the runtime-scheduler asks it (its
     * own key, the wake's sequence as `atLeast`): the reply, and the values when it was sealed.
     */
    async wakeAndResolve(orgId: string, workspaceId: string, inputs: string[]) {
      const key = generateBoxKeyPair();
      const { runtimeId, sequence } = await schedulerOf(running.app).wake(orgId, workspaceId);
      const reply = await this.resolve({
        orgId,
        workspaceId,
        runtimeId,
        inputs,
        publicKey: key.publicKey,
        atLeast: sequence,
      });
      const sealed = 'sealed' in reply ? resolveReplySchema.parse(reply).sealed : undefined;
      const values =
        sealed &&
        (JSON.parse(openBox(sealed, key.privateKey, runtimeId).toString('utf8')) as Record<string, string>);
      return { runtimeId, reply, values };
    },
    /** The events secrets recorded (of one type, when given), oldest first, as `{ type, data }`. */
    async events<T extends SecretsEvent['type'] = SecretsEvent['type']>(
      type?: T,
    ): Promise<Array<Extract<SecretsEvent, { type: T }>>> {
      const { rows } = await sql<{ envelope: { type: string; data: unknown } }>`
        select envelope from events order by position`.execute(db);
      return rows
        .map((r) => ({ type: r.envelope.type.split('.').slice(2, 4).join('.'), data: r.envelope.data }))
        .filter((e) => type === undefined || e.type === type) as Array<Extract<SecretsEvent, { type: T }>>;
    },
    async stop() {
      await caller.close();
      await admin.close();
      await db.destroy();
      await running.stop();
      await nats.stop();
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
export type SecretsHarness = Awaited<ReturnType<typeof startSecretsHarness>>;
