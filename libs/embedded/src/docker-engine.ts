import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pollUntil } from './free-port';
import { isAlive, logTail } from './process';

export interface DockerEngineOptions {
  /**
   * The engine's folder: images and containers (`data/`), its runtime state (`run/`), its
   * socket, pid and log. Kept short: containerd's sockets live under it and a Unix socket path
   * has at most 107 bytes.
   */
  dir: string;
  /** Path of dockerd (default `dockerd` on PATH). */
  binary?: string;
  startTimeoutMs?: number;
  /** Start in its own process group (default true), so a terminal's Ctrl-C reaches only its parent. */
  detached?: boolean;
}

export interface DockerEngineHandle {
  /** `unix:///…/docker.sock`: what DOCKER_HOST or a host registration takes. */
  url: string;
  socketPath: string;
  dir: string;
  pid: number;
  /** Ends the engine and its containerd (SIGTERM, SIGKILL after the grace) and unmounts what they left. */
  stop(): Promise<void>;
  /** A crashed host: SIGKILL to the engine's whole process group. */
  kill(): Promise<void>;
}

/**
 * The flags this machine's engines run with: no bridge, no iptables, no forwarding or
 * masquerading (nothing here may create host networking). Containers get `--network none`;
 * their ports are reached through the engine (exec streams), as `kubectl port-forward` does.
 */
export const ISOLATED_ENGINE_FLAGS = [
  '--bridge=none',
  '--iptables=false',
  '--ip6tables=false',
  '--ip-forward=false',
  '--ip-masq=false',
] as const;

/**
 * Starts a Docker engine (dockerd, with its own containerd) of its own: data root, exec root,
 * socket and pid file under `dir`; resolves when `/_ping` answers. An engine left running by a
 * dead parent (pid file in `dir`) is stopped first.
 */
export async function startDockerEngine(options: DockerEngineOptions): Promise<DockerEngineHandle> {
  const dir = path.resolve(options.dir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socketPath = path.join(dir, 'docker.sock');
  if (Buffer.byteLength(path.join(dir, 'run', 'containerd', 'containerd.sock.ttrpc')) > 107)
    throw new Error(`the engine folder ${dir} is too long for its Unix sockets; choose a shorter one`);
  const pidFile = path.join(dir, 'docker.pid');
  await stopStale(pidFile);
  const logFile = path.join(dir, 'dockerd.log');
  const log = fs.openSync(logFile, 'a', 0o600);
  const child: ChildProcess = spawn(
    options.binary ?? 'dockerd',
    [
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'run'),
      '--pidfile',
      pidFile,
      '-H',
      `unix://${socketPath}`,
      ...ISOLATED_ENGINE_FLAGS,
    ],
    { stdio: ['ignore', log, log], detached: options.detached ?? true },
  );
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`dockerd exited during start-up (${signal ?? code}): ${logTail(logFile)}`)),
    );
  });
  try {
    await Promise.race([
      pollUntil(() => ping(socketPath), options.startTimeoutMs ?? 30_000, 'dockerd start-up'),
      failed,
    ]);
  } catch (error) {
    signalGroup(child, 'SIGKILL');
    throw error;
  }
  failed.catch(() => undefined);

  const stop = async (signal: NodeJS.Signals, graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const containerd = childPids(child.pid!);
    signalGroup(child, signal);
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    // dockerd stops its containerd on a clean exit; after SIGKILL it is still there.
    for (const pid of containerd) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await pollUntil(() => containerd.every((pid) => !isAlive(pid)), 10_000, 'containerd to exit');
    reapShims(dir);
    unmountUnder(dir);
  };
  return {
    url: `unix://${socketPath}`,
    socketPath,
    dir,
    pid: child.pid!,
    stop: () => stop('SIGTERM', 15_000),
    kill: () => stop('SIGKILL', 0),
  };
}

/** Whether an engine answers on this socket. */
export function ping(socketPath: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ socketPath, path: '/_ping', timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

/**
 * Ends the container shims of a stopped engine and the containers under them. A shim outlives
 * its engine by design, so after a SIGKILL the containers would go on running with nobody
 * owning them.
 */
export function reapShims(dir: string): void {
  const address = `${path.resolve(dir)}/run/containerd/`;
  const processes = fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => {
      try {
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const cmdline = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
        return { pid: Number(name), parent, cmdline };
      } catch {
        return undefined;
      }
    })
    .filter((p): p is { pid: number; parent: number; cmdline: string } => p !== undefined);
  const doomed = new Set(processes.filter((p) => p.cmdline.includes(address)).map((p) => p.pid));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of processes)
      if (!doomed.has(p.pid) && doomed.has(p.parent)) {
        doomed.add(p.pid);
        grew = true;
      }
  }
  for (const pid of doomed) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
}

/**
 * Unmounts what a stopped engine left mounted under its folder (container root filesystems and
 * shm after a SIGKILL), deepest first, so the folder can be removed.
 */
export function unmountUnder(dir: string): void {
  const prefix = `${path.resolve(dir)}/`;
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => Boolean(point))
    .map((point) =>
      point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))),
    )
    .filter((point) => point.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) spawnSync('umount', ['-l', point], { stdio: 'ignore' });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}

/** Direct children of a process (dockerd's managed containerd), from /proc. */
function childPids(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function stopStale(pidFile: string): Promise<void> {
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    const children = childPids(pid);
    process.kill(pid, 'SIGTERM');
    await pollUntil(() => !isAlive(pid), 15_000, `stale dockerd ${pid} to exit`);
    for (const child of children) if (isAlive(child)) process.kill(child, 'SIGKILL');
  }
  fs.rmSync(pidFile, { force: true });
}
