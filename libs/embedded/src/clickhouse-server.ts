import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, pollUntil } from './free-port';
import { stopProcess } from './process';

/** A ClickHouse user of the harness's users.xml. */
export interface ClickHouseUser {
  name: string;
  password: string;
  /** `admin`: everything; `insert`: no DDL, only `databases`; `read`: readonly. */
  role: 'admin' | 'insert' | 'read';
  /** Databases the user may use (all when omitted). */
  databases?: string[];
}

export interface ClickHouseOptions {
  /** Data, config and logs live here (created if missing; reused across restarts). */
  dataDir: string;
  /** Path of the clickhouse-server binary (default: `clickhouse-server` on PATH). */
  binary?: string;
  users: ClickHouseUser[];
  startTimeoutMs?: number;
}

export interface ClickHouseHandle {
  /** http://127.0.0.1:<port> */
  url: string;
  httpPort: number;
  pid: number;
  /** SIGTERM, wait for exit (data stays). */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data after stop(). */
  start(): Promise<void>;
}

const xmlEscape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const PROFILES: Record<ClickHouseUser['role'], string> = {
  admin: 'default',
  // ClickHouse 18.16 has no GRANT: "insert" is no DDL plus allow_databases (see docs/audit.md).
  insert: 'insert_only',
  read: 'readonly',
};

function usersXml(users: readonly ClickHouseUser[]): string {
  const user = (u: ClickHouseUser) => `
    <${u.name}>
      <password>${xmlEscape(u.password)}</password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>${PROFILES[u.role]}</profile>
      <quota>default</quota>${
        u.databases
          ? `
      <allow_databases>${u.databases.map((d) => `<database>${xmlEscape(d)}</database>`).join('')}</allow_databases>`
          : ''
      }
    </${u.name}>`;
  return `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default><max_memory_usage>1000000000</max_memory_usage></default>
    <insert_only><readonly>0</readonly><allow_ddl>0</allow_ddl><max_memory_usage>500000000</max_memory_usage></insert_only>
    <readonly><readonly>1</readonly></readonly>
  </profiles>
  <users>${users.map(user).join('')}
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;
}

function configXml(dir: string, httpPort: number, tcpPort: number): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${dir}/log/server.log</log>
    <errorlog>${dir}/log/error.log</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <timezone>UTC</timezone>
  <max_concurrent_queries>32</max_concurrent_queries>
</yandex>
`;
}

/**
 * Runs Debian's clickhouse-server (18.16) on 127.0.0.1 with its own config, users and data under
 * dataDir, and resolves when its HTTP interface answers /ping. Stopped by PID.
 */
export async function startClickHouse(options: ClickHouseOptions): Promise<ClickHouseHandle> {
  const dir = path.resolve(options.dataDir);
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas', 'log'])
    fs.mkdirSync(path.join(dir, sub), { recursive: true, mode: 0o700 });
  const httpPort = await freePort();
  const tcpPort = await freePort();
  const configFile = path.join(dir, 'config.xml');
  fs.writeFileSync(configFile, configXml(dir, httpPort, tcpPort), { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'users.xml'), usersXml(options.users), { mode: 0o600 });
  let child: ChildProcess;
  const launch = async () => {
    const log = fs.openSync(path.join(dir, 'log', 'stdout.log'), 'a', 0o600);
    child = spawn(options.binary ?? 'clickhouse-server', [`--config-file=${configFile}`], {
      cwd: dir,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new Error(`clickhouse-server exited during start-up (${signal ?? code}): ${tail(dir)}`)),
      ),
    );
    try {
      await Promise.race([
        pollUntil(
          async () => (await fetch(`http://127.0.0.1:${httpPort}/ping`)).ok,
          options.startTimeoutMs ?? 30_000,
          'clickhouse-server start-up',
          50,
        ),
        exited,
      ]);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    exited.catch(() => undefined);
  };
  await launch();
  return {
    url: `http://127.0.0.1:${httpPort}`,
    httpPort,
    get pid() {
      return child.pid!;
    },
    stop: () => stopProcess(child, 'SIGTERM', 20_000),
    start: async () => {
      if (child.exitCode === null && child.signalCode === null) return;
      await launch();
    },
  };
}

function tail(dir: string): string {
  try {
    return fs
      .readFileSync(path.join(dir, 'log', 'error.log'), 'utf8')
      .split('\n')
      .slice(-6)
      .join('\n');
  } catch {
    return '(no log)';
  }
}
