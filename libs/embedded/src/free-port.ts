import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';

/**
 * A TCP port on 127.0.0.1 for a server that must be told its port before it binds it (nats-server,
 * Postgres, ClickHouse, the test OpenID provider), reserved for this process until it exits.
 *
 * Not `listen(0)` then close: the kernel draws that port from the ephemeral range, the same range it
 * draws every outgoing connection's local port from, so between the close and the child's bind any
 * connection on the machine, or another jest worker's `listen(0)`, may take it (CI once saw
 * ClickHouse exit with "Address already in use"). On Linux these ports come from just below the
 * ephemeral range, which the kernel never assigns by itself, and each is claimed across processes by
 * binding an abstract Unix socket named after it: the kernel releases the claim when this process
 * ends, however it ends, so no claim outlives its owner.
 *
 * `pool` defaults to the 12,000 ports below the ephemeral range. Elsewhere, or when fewer than 1,000
 * lie below it, the port is the kernel's `listen(0)`.
 */
export async function freePort(pool: PortRange | undefined = portPool()): Promise<number> {
  if (!pool) return kernelPort();
  const size = pool.high - pool.low;
  const start = randomInt(size);
  for (let i = 0; i < size; i++) {
    const port = pool.low + ((start + i) % size);
    const claim = await claimPort(port);
    if (!claim) continue;
    if (await canBind(port)) return port;
    claim.close();
  }
  throw new Error(`no free TCP port on 127.0.0.1 in ${pool.low}-${pool.high - 1}`);
}

/** Ports low <= port < high. */
export interface PortRange {
  low: number;
  high: number;
}

/** How many ports below the ephemeral range the pool spans. */
const POOL_SIZE = 12_000;

/** [low, high) just below Linux's ephemeral range, or undefined (not Linux, or too little room). */
function portPool(): PortRange | undefined {
  let ephemeralLow: number;
  try {
    ephemeralLow = Number(
      fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
  } catch {
    return undefined;
  }
  const low = Math.max(10_000, ephemeralLow - POOL_SIZE);
  return ephemeralLow - low >= 1_000 ? { low, high: ephemeralLow } : undefined;
}

/**
 * Binds the abstract socket `palisade-port-<port>` (kept open, not keeping the event loop alive), or
 * resolves undefined when another process holds it.
 */
function claimPort(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error),
    );
    server.listen({ path: `\0palisade-port-${port}` }, () => {
      server.unref();
      resolve(server);
    });
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when something accepts TCP connections on 127.0.0.1:port. */
export function canConnect(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls `check` every `intervalMs` until it is truthy or `timeoutMs` passes. */
export async function pollUntil<T>(
  check: () => Promise<T> | T,
  timeoutMs: number,
  what: string,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what} did not happen within ${timeoutMs} ms${last ? `: ${(last as Error).message ?? last}` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
