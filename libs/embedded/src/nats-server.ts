import { spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { canConnect, freePort, pollUntil } from './free-port';
import { isAlive, logTail, stopProcess } from './process';

export interface NatsServerOptions {
  /** JetStream store and the server's config, log and pid files live here. */
  dataDir: string;
  /** Client port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /**
   * nats-server configuration text (users, permissions); written to dataDir/nats.conf with mode
   * 0600. Host, port and JetStream's store come from the command line: the text must not set
   * `jetstream { store_dir }` (nats-server refuses a duplicate store_dir).
   */
  configText?: string;
  /** Path of the nats-server binary (default: `nats-server` on PATH). */
  binary?: string;
  /** Where the server's output goes (default dataDir/nats.log). */
  logFile?: string;
  startTimeoutMs?: number;
  /**
   * Start the server in its own process group (default false). `palisade dev` sets it so that a
   * terminal's Ctrl-C reaches only the CLI, which then stops the server in order.
   */
  detached?: boolean;
}

export interface NatsServerHandle {
  url: string;
  port: number;
  monitorUrl: string;
  pid: number;
  /** SIGTERM, wait for exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGKILL, wait for exit: a crash. */
  kill(): Promise<void>;
  /** Start again on the same port and data folder. */
  restart(): Promise<void>;
}

/**
 * Starts nats-server with JetStream (file storage under dataDir), bound to 127.0.0.1, and
 * resolves when JetStream answers its health check. A server left running by a dead parent
 * (pid file in dataDir) is stopped first, so the store is never shared.
 */
export async function startNatsServer(options: NatsServerOptions): Promise<NatsServerHandle> {
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const pidFile = path.join(options.dataDir, 'nats-server.pid');
  await stopStale(pidFile);
  const port = options.port ?? (await freePort());
  const monitorPort = await freePort();
  const logFile = options.logFile ?? path.join(options.dataDir, 'nats.log');
  const args = [
    '-js',
    '-sd',
    path.join(options.dataDir, 'jetstream'),
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '-m',
    String(monitorPort),
    '-P',
    pidFile,
  ];
  if (options.configText !== undefined) {
    const configFile = path.join(options.dataDir, 'nats.conf');
    fs.writeFileSync(configFile, options.configText, { mode: 0o600 });
    fs.chmodSync(configFile, 0o600);
    args.unshift('-c', configFile);
  }
  let child: ChildProcess;
  const launch = async () => {
    const log = fs.openSync(logFile, 'a', 0o600);
    child = spawn(options.binary ?? 'nats-server', args, {
      stdio: ['ignore', log, log],
      detached: options.detached ?? false,
    });
    fs.closeSync(log);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        reject(new Error(`nats-server exited during start-up (${signal ?? code}): ${logTail(logFile)}`)),
      );
    });
    const ready = pollUntil(
      async () =>
        (await canConnect(port)) &&
        (await fetch(`http://127.0.0.1:${monitorPort}/healthz?js-enabled-only=true`)).ok,
      options.startTimeoutMs ?? 15_000,
      'nats-server start-up',
    );
    try {
      await Promise.race([ready, failed]);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    failed.catch(() => undefined);
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorUrl: `http://127.0.0.1:${monitorPort}`,
    get pid() {
      return child.pid!;
    },
    stop: () => stopProcess(child, 'SIGTERM'),
    kill: () => stopProcess(child, 'SIGKILL'),
    restart: async () => {
      await stopProcess(child, 'SIGTERM');
      await launch();
    },
  };
}

async function stopStale(pidFile: string): Promise<void> {
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    await pollUntil(() => !isAlive(pid), 10_000, `stale nats-server ${pid} to exit`);
  }
  fs.rmSync(pidFile, { force: true });
}
