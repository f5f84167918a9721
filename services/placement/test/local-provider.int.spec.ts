import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isAlive, ping } from '@palisade/embedded';
import { waitFor } from '@palisade/testing';
import { PlacementHarness, startPlacementHarness, TOKENS } from './placement.harness';

const operator = TOKENS.operator;
const ask = (orgId: string) => ({
  orgId,
  workspaceId: 'ws-1',
  runtimeId: randomUUID(),
  resources: { cpuMillis: 250, memoryBytes: 64 * 2 ** 20 },
});

describe('the local provider: hosts that are dockerd processes on this machine', () => {
  let h: PlacementHarness;
  let dir: string;
  const socket = (hostId: string) => path.join(dir, hostId, 'docker.sock');
  const pidOf = (hostId: string) => Number(fs.readFileSync(path.join(dir, hostId, 'docker.pid'), 'utf8'));

  beforeAll(async () => {
    dir = fs.mkdtempSync('/tmp/plh-');
    h = await startPlacementHarness({
      PLACEMENT_PROVIDER: 'local',
      PLACEMENT_LOCAL_DIR: dir,
      PLACEMENT_LOCAL_MAX_HOSTS: '2',
      PLACEMENT_LOCAL_CAPACITY: 'cpu=1,memory=1Gi,runtimes=2',
      PLACEMENT_DEV_ENGINE: 'local',
    });
  }, 120_000);

  afterAll(async () => {
    await h?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts the development host, adds a host when the pool is full, stops it when it is removed', async () => {
    // PLACEMENT_DEV_ENGINE=local: one engine of the local provider is there from the start.
    const [dev] = (await h.http('GET', '/v1/hosts', { token: operator })).body.items;
    expect(dev).toMatchObject({
      provider: 'local',
      status: 'free',
      healthy: true,
      engine: `unix://${socket(dev.hostId)}`,
    });
    expect(await ping(socket(dev.hostId))).toBe(true);

    const [x, y, z] = [await h.organization(), await h.organization(), await h.organization()];
    expect(await h.place(ask(x))).toMatchObject({ placed: true, hostId: dev.hostId });
    // No free host for y: the provider starts another dockerd, registers it and places there.
    const py = await h.place(ask(y));
    if (!py.placed) throw new Error(JSON.stringify(py));
    expect(py.hostId).toMatch(/^local-[0-9a-f]{6}$/);
    expect(py.engine.url).toBe(`unix://${socket(py.hostId)}`);
    expect(await ping(socket(py.hostId))).toBe(true);
    // At its limit (2 hosts) the provider adds none: z is refused with a retry hint.
    expect(await h.place(ask(z))).toMatchObject({
      placed: false,
      reason: 'no_capacity',
      retryAfterMs: 5_000,
    });

    // Released, wiped and removed: its engine stops and its folder goes.
    const pid = pidOf(py.hostId);
    await h.http('POST', `/v1/hosts/${py.hostId}/release`, { token: operator });
    await waitFor(() => h.view.index.host(py.hostId)?.status === 'free', { description: 'the wipe' });
    expect((await h.http('DELETE', `/v1/hosts/${py.hostId}`, { token: operator })).status).toBe(200);
    expect(isAlive(pid)).toBe(false);
    expect(fs.existsSync(path.join(dir, py.hostId))).toBe(false);
    expect((await h.events('host.removed')).map((e) => e.data.hostId)).toEqual([py.hostId]);

    // With one slot free again, the provider adds a host for z.
    const pz = await h.place(ask(z));
    expect(pz).toMatchObject({ placed: true });
    expect(pz.placed && pz.hostId).not.toBe(py.hostId);
  });

  it('stops its engines with the service', async () => {
    const hosts = [...h.view.index.all()].map((host) => host.hostId);
    const pids = hosts.map(pidOf);
    await h.running.stop();
    for (const hostId of hosts) expect(await ping(socket(hostId))).toBe(false);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });
});
