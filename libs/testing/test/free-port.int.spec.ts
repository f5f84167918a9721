import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '@palisade/embedded';
import { runTsChild, TsChild } from '../src/child-process';
import { waitFor } from '../src/wait-for';

const CHILD = path.join(__dirname, 'claim-ports.child.ts');
const children: TsChild[] = [];

/** Starts a child that claims `count` ports (from `pool` when given) and holds them. */
async function claimInChild(count: number, pool?: { low: number; high: number }) {
  const child = runTsChild(CHILD, {
    PORT_COUNT: String(count),
    ...(pool ? { PORT_LOW: String(pool.low), PORT_HIGH: String(pool.high) } : {}),
  });
  children.push(child);
  const line = await waitFor(() => /^\{.*\}$/m.exec(child.output())?.[0], {
    description: `a child's claimed ports (${count})`,
    timeoutMs: 20_000,
  });
  return { child, ports: (JSON.parse(line) as { ports: number[] }).ports };
}

async function stop(child: TsChild, signal: NodeJS.Signals) {
  child.process.kill(signal);
  return child.exited;
}

const ephemeralLow = Number(
  fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
);
const listenOn = (port: number) =>
  new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
const close = (server: net.Server) => new Promise((resolve) => server.close(resolve));

afterEach(async () => {
  for (const child of children.splice(0))
    if (child.process.exitCode === null && child.process.signalCode === null) await stop(child, 'SIGKILL');
});

describe('freePort', () => {
  it('never hands one port to two processes at once, and only ports below the ephemeral range that nothing listens on', async () => {
    const [here, first, second] = await Promise.all([
      Promise.all(Array.from({ length: 150 }, () => freePort())),
      claimInChild(150),
      claimInChild(150),
    ]);
    const all = [...here, ...first.ports, ...second.ports];
    expect(new Set(all).size).toBe(all.length);
    for (const port of all) {
      expect(port).toBeLessThan(ephemeralLow);
      expect(port).toBeGreaterThanOrEqual(1024);
    }
    // Claimed is not bound: the server the port is for can bind it.
    for (const port of [...here.slice(0, 20), ...first.ports.slice(0, 20)]) await close(await listenOn(port));
  });

  it('respects a live claim, and the claim ends with its process however it ends', async () => {
    const killed = await claimInChild(1);
    const [port] = killed.ports;
    const only = { low: port, high: port + 1 };
    await expect(freePort(only)).rejects.toThrow(`no free TCP port on 127.0.0.1 in ${port}-${port}`);

    // SIGKILL leaves no chance to clean up; the kernel releases the claim anyway.
    expect(await stop(killed.child, 'SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const taker = await claimInChild(1, only);
    expect(taker.ports).toEqual([port]);
    await expect(freePort(only)).rejects.toThrow('no free TCP port');

    expect(await stop(taker.child, 'SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await freePort(only)).toBe(port);
  });

  it('skips a port that something outside the claims listens on, and lets go of its claim', async () => {
    const holder = await claimInChild(1);
    const [port] = holder.ports;
    await stop(holder.child, 'SIGTERM');
    const only = { low: port, high: port + 1 };

    const server = await listenOn(port);
    await expect(freePort(only))
      .rejects.toThrow('no free TCP port')
      .finally(() => close(server));
    // Had the failed attempt kept its claim, this process could not claim the port again.
    expect(await freePort(only)).toBe(port);
  });
});
