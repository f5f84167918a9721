import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureGoTool, NATS_SERVER_TOOL } from '@palisade/config';
import { NatsServerHandle, PostgresHandle, startEmbeddedPostgres, startNatsServer } from '@palisade/embedded';
import { buildTestWebapp } from './docker';
import { STATE_ENV, TestState } from './test-state';

/** Handles for the teardown, which jest runs in this same process. */
export const servers: { nats?: NatsServerHandle; postgres?: PostgresHandle; tempDir?: string } = {};

/**
 * Once per jest run: a real nats-server (JetStream) and a real PostgreSQL in a fresh temp folder,
 * and the test image's web application (Go). nats-server is the pinned build (`ensureGoTool`;
 * Debian's package where Go is missing; PALISADE_NATS_SERVER names another binary). Workers find
 * them through env vars; each runtime test starts Docker engines of its own.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const natsServer = ensureGoTool(NATS_SERVER_TOOL, { override: process.env.PALISADE_NATS_SERVER });
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-test-'));
  servers.tempDir = tempDir;
  // Postgres runs as the unprivileged postgres user when we are root: it must be able to enter.
  fs.chmodSync(tempDir, 0o711);
  // The runtime tests' web application is built once here, while the servers start.
  const [nats, postgres] = await Promise.all([
    startNatsServer({ dataDir: path.join(tempDir, 'nats'), binary: natsServer.path }),
    startEmbeddedPostgres({
      dataDir: path.join(tempDir, 'pg', 'data'),
      password: `test-${path.basename(tempDir)}`,
    }),
    buildTestWebapp(),
  ]);
  servers.nats = nats;
  servers.postgres = postgres;
  const state: TestState = {
    tempDir,
    natsUrl: nats.url,
    natsPid: nats.pid,
    natsServerBinary: natsServer.path,
    postgresUrl: postgres.url,
    postgresPid: postgres.pid,
  };
  const stateFile = path.join(tempDir, 'state.json');
  fs.writeFileSync(stateFile, JSON.stringify(state), { mode: 0o600 });
  process.env[STATE_ENV] = stateFile;
  process.env.NATS_URL = nats.url;
  process.env.PALISADE_TEST_DATABASE_ADMIN_URL = postgres.url;
  process.stderr.write(
    `\ntest servers up in ${Date.now() - started} ms: nats ${nats.url}, postgres 127.0.0.1:${postgres.port}\n` +
      `  ${natsServer.describe()}\n`,
  );
}
