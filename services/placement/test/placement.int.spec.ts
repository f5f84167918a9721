import { createHash, randomUUID } from 'node:crypto';
import { startTestEngine, TEST_APP_IMAGE, TestEngine, waitFor } from '@palisade/testing';
import type { PlaceRequest } from '@palisade/contracts';
import { PlacementHarness, startPlacementHarness, TOKENS } from './placement.harness';

const GiB = 2 ** 30;
const operator = TOKENS.operator;

/** A runtime's ask: half a core and 256 MiB unless said otherwise. */
function ask(orgId: string, extra: Partial<PlaceRequest> = {}): PlaceRequest {
  return {
    orgId,
    workspaceId: 'ws-1',
    runtimeId: randomUUID(),
    resources: { cpuMillis: 500, memoryBytes: 256 * 2 ** 20 },
    ...extra,
  };
}

/** What a runtime leaves on an engine: a container and a volume with its organization's labels. */
async function plantRuntime(engine: TestEngine, orgId: string, labels: Record<string, string> = {}) {
  const tags = {
    'palisade.org': orgId,
    'palisade.workspace': 'ws-1',
    'palisade.runtime': randomUUID(),
    ...labels,
  };
  const volume = `v-${randomUUID().slice(0, 8)}`;
  await engine.docker.createVolume({ Name: volume, Labels: tags });
  const container = await engine.docker.createContainer({
    Image: TEST_APP_IMAGE,
    Cmd: ['sleep', '600'],
    Labels: tags,
    HostConfig: { NetworkMode: 'none', Binds: [`${volume}:/data`] },
  });
  await container.start();
  return container;
}

describe('placement against real Docker engines (two dockerd = two hosts)', () => {
  let h: PlacementHarness;
  let a: TestEngine;
  let b: TestEngine;
  const hostOf = new Map<string, TestEngine>();
  let devHost: string;
  /** Which host each organization of the tests holds. */
  const owners = new Map<string, string>();

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestEngine(), startTestEngine()]);
    // Engine a is registered as `palisade dev` registers the user's own engine; b over the API.
    h = await startPlacementHarness({ PLACEMENT_DEV_ENGINE: a.url });
    devHost = `dev-${createHash('sha256').update(a.url).digest('hex').slice(0, 8)}`;
    hostOf.set(devHost, a);
    const registered = await h.http('POST', '/v1/hosts', {
      token: operator,
      body: {
        hostId: 'engine-b',
        engine: b.url,
        capacity: { cpuMillis: 2000, memoryBytes: 2 * GiB, runtimes: 2 },
        labels: { zone: 'b' },
      },
    });
    expect(registered).toMatchObject({
      status: 201,
      body: { hostId: 'engine-b', status: 'free', healthy: true },
    });
    hostOf.set('engine-b', b);
  }, 120_000);

  afterAll(async () => {
    await h?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('registers hosts only for operators, and refuses bad input with a clear 4xx, registering nothing', async () => {
    const register = (body: Record<string, unknown>, token = operator) =>
      h.http('POST', '/v1/hosts', {
        token,
        body: { engine: a.url, capacity: { cpuMillis: 1000, memoryBytes: GiB, runtimes: 1 }, ...body },
      });
    const refusals = [
      [
        { capacity: { cpuMillis: 0, memoryBytes: GiB, runtimes: 1 } },
        400,
        'invalid_request',
        'capacity.cpuMillis',
      ],
      [
        { capacity: { cpuMillis: 1000, memoryBytes: -1, runtimes: 1 } },
        400,
        'invalid_request',
        'capacity.memoryBytes',
      ],
      [{ engine: 'tcp://10.0.0.1:2375' }, 400, 'invalid_request', 'tcp+tls://'],
      [{ engine: 'unix:///tmp/no-engine-here.sock' }, 422, 'engine_unreachable', 'Nothing was registered'],
      [{ hostId: 'engine-b' }, 409, 'host_exists', 'registered already'],
      [{ hostId: 'Bad Id' }, 400, 'invalid_request', 'hostId'],
    ] as const;
    for (const [body, status, code, says] of refusals) {
      const answer = await register(body);
      expect([answer.status, answer.body.code]).toEqual([status, code]);
      expect(answer.body.detail).toContain(says);
    }
    expect((await register({ hostId: 'by-a-member' }, TOKENS.member)).body.code).toBe('host_manage_denied');
    expect((await h.http('POST', '/v1/hosts', { body: {} })).status).toBe(401);

    const listed = await h.http('GET', '/v1/hosts', { token: operator });
    expect(listed.body.items.map((host: { hostId: string }) => host.hostId)).toEqual([devHost, 'engine-b']);
    expect(listed.body.items[0]).toMatchObject({ engine: a.url, provider: 'static', labels: {} });
    expect(
      (await h.events('host.registered')).map((e) => [e.data.hostId, e.orgid, e.data.registeredBy]),
    ).toEqual([
      [devHost, 'system', 'system'],
      ['engine-b', 'system', 'demo:writer'],
    ]);
  });

  it('places two organizations at the same time on different engines; refusals carry a stable reason', async () => {
    const x = await h.organization(['demo:reader']);
    const y = await h.organization();
    const [rx, ry] = [ask(x), ask(y)];
    const [px, py] = await Promise.all([h.place(rx), h.place(ry)]);
    if (!px.placed || !py.placed) throw new Error(`not placed: ${JSON.stringify([px, py])}`);
    expect(px.hostId).not.toBe(py.hostId);
    expect(px.engine.url).toBe(hostOf.get(px.hostId)!.url);
    expect(py.engine.url).toBe(hostOf.get(py.hostId)!.url);
    owners.set(x, px.hostId).set(y, py.hostId);
    expect((await h.events('host.assigned')).map((e) => e.data.orgId).sort()).toEqual([x, y].sort());
    // Asking again (a lost reply) gets the same answer.
    expect(await h.place(rx)).toEqual(px);

    // A member sees the hosts of its organization (no engine address), and nothing of another's.
    const mine = await h.http('GET', `/v1/orgs/${x}/hosts`, { token: TOKENS.member });
    expect(mine.body.items).toEqual([expect.objectContaining({ hostId: px.hostId, orgId: x })]);
    expect(mine.body.items[0]).not.toHaveProperty('engine');
    expect((await h.http('GET', `/v1/orgs/${y}/hosts`, { token: TOKENS.member })).body.code).toBe(
      'org_not_found',
    );

    const z = await h.organization();
    const refused = [
      [ask('nobody-knows-this-org'), 'unknown_organization'],
      [ask(x, { labels: { zone: 'c' } }), 'no_matching_host'],
      [ask(x, { resources: { cpuMillis: 64_000, memoryBytes: GiB } }), 'too_large'],
      [ask(z), 'no_capacity'],
    ] as const;
    for (const [request, reason] of refused) {
      const reply = await h.place(request);
      expect(reply).toMatchObject({ placed: false, reason });
      expect((reply as { message: string }).message.length).toBeGreaterThan(20);
    }
    expect(await h.place(ask(z))).toMatchObject({ reason: 'no_capacity', retryAfterMs: 5_000 });
    expect(await h.place({ ...ask(x), resources: { cpuMillis: 0, memoryBytes: 1 } })).toMatchObject({
      placed: false,
      reason: 'invalid_request',
    });
    const failed = await h.events('placement.failed');
    expect(failed.map((e) => e.data.reason)).toEqual([
      'unknown_organization',
      'no_matching_host',
      'too_large',
      'no_capacity',
      'no_capacity',
    ]);
    // What an operator sees (the view follows the store within a moment).
    const latest = await waitFor(
      async () => {
        const { body } = await h.http('GET', '/v1/placement/failures', { token: operator });
        return body.items.length === 5 && body.items[0];
      },
      { description: 'the refusals listed for operators' },
    );
    expect(latest).toMatchObject({ orgId: z, reason: 'no_capacity', retryAfterMs: 5_000 });

    // Capacity comes back when the runtime-scheduler says a runtime slept, or asks to unplace.
    await h.runtimeSlept(x, 'ws-1', rx.runtimeId);
    await waitFor(() => h.view.index.host(px.hostId)!.placements.size === 0, {
      description: "runtime.slept to free the runtime's place",
    });
    expect(await h.unplace(ry.runtimeId)).toEqual({ released: true });
    expect(await h.unplace(ry.runtimeId)).toEqual({ released: false });
    expect((await h.events('runtime.unplaced')).map((e) => e.data.reason)).toEqual(['slept', 'unplaced']);
    // Empty, the hosts stay their organizations' until released.
    expect(h.view.index.host(py.hostId)).toMatchObject({ status: 'assigned', orgId: y });
  });

  it('release wipes the engine for real, and the next organization gets a clean engine', async () => {
    const [x] = [...owners.keys()];
    const hostId = owners.get(x)!;
    const engine = hostOf.get(hostId)!;
    const baselineImages = (await engine.docker.listImages()).map((i) => i.Id).sort();
    const container = await plantRuntime(engine, x);
    await engine.docker.createContainer({ Image: TEST_APP_IMAGE, Cmd: ['true'] }); // unlabeled
    await container.commit({ repo: 'left-behind', tag: '1' });
    await engine.docker.createNetwork({ Name: `n-${x}`, Labels: { 'palisade.org': x } });

    const released = await h.http('POST', `/v1/hosts/${hostId}/release`, { token: operator });
    expect(released).toMatchObject({ status: 202, body: { status: 'wiping', orgId: x } });
    await waitFor(() => h.view.index.host(hostId)?.status === 'free', { description: 'the wipe to finish' });
    const [wiped] = (await h.events('host.wiped')).map((e) => e.data);
    expect(wiped).toEqual(
      expect.objectContaining({
        hostId,
        orgId: x,
        removed: { containers: 2, volumes: 1, networks: 1, images: 1 },
      }),
    );
    // The engine holds what it held at registration, nothing of x.
    expect(await engine.docker.listContainers({ all: true })).toEqual([]);
    expect((await engine.docker.listVolumes()).Volumes ?? []).toEqual([]);
    expect((await engine.docker.listImages()).map((i) => i.Id).sort()).toEqual(baselineImages);
    expect((await engine.docker.listNetworks()).map((n) => n.Name).sort()).toEqual(['host', 'none']);

    const z = await h.organization();
    const request = ask(z);
    expect(await h.place(request)).toMatchObject({ placed: true, hostId });
    owners.delete(x);
    owners.set(z, hostId);
    expect(h.view.index.host(hostId)).toMatchObject({ status: 'assigned', orgId: z });
  });

  it("the drift detector reports an engine holding another organization's objects, or unlabeled ones", async () => {
    const [[y, hostB], [z, hostA]] = [...owners.entries()];
    const engine = hostOf.get(hostA)!;
    const planted = await plantRuntime(engine, y);
    const stranger = await engine.docker.createContainer({ Image: TEST_APP_IMAGE, Cmd: ['true'] });
    const { foreign, unlabeled } = await waitFor(
      () => {
        const mine = h.view.violations().filter((v) => v.hostId === hostA && v.assignedOrgId === z);
        const foreign = mine.find((v) => v.kind === 'foreign_organization' && v.objects.length === 2);
        const unlabeled = mine.find((v) => v.kind === 'unlabeled');
        return foreign && unlabeled && { foreign, unlabeled };
      },
      { description: 'the drift detector to report both' },
    );
    expect(foreign.orgIds).toEqual([y]);
    expect(foreign.objects.map((o) => [o.kind, o.orgId]).sort()).toEqual([
      ['container', y],
      ['volume', y],
    ]);
    expect(unlabeled.objects).toEqual([expect.objectContaining({ kind: 'container', id: stranger.id })]);
    const listed = await h.http('GET', '/v1/placement/violations', { token: operator });
    expect(listed.body.items.map((v: { kind: string }) => v.kind)).toEqual(
      expect.arrayContaining(['unlabeled', 'foreign_organization']),
    );
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/palisade_placement_violations_total\{kind="foreign_organization"\} [1-9]/);
    void hostB;
    await planted.remove({ force: true, v: true });
    await stranger.remove({ force: true });
  });

  it('a host whose engine is killed becomes unhealthy, loses its runtimes and receives nothing', async () => {
    const [[y, hostId]] = [...owners.entries()];
    const request = ask(y);
    expect(await h.place(request)).toMatchObject({ placed: true, hostId });
    await hostOf.get(hostId)!.kill();
    await waitFor(() => h.view.index.host(hostId)?.healthy === false, {
      description: 'the host marked unhealthy',
    });
    const evicted = (await h.events('runtime.evicted')).map((e) => e.data).filter((e) => e.hostId === hostId);
    expect(evicted).toEqual([
      expect.objectContaining({ runtimeId: request.runtimeId, hostId, reason: 'host_unhealthy' }),
    ]);
    expect((await h.events('host.unhealthy')).map((e) => [e.data.hostId, e.orgid])).toEqual([[hostId, y]]);

    expect(await h.place(ask(y))).toMatchObject({ placed: false, reason: 'no_capacity' });
    expect(h.view.index.host(hostId)!.placements.size).toBe(0);

    // Its release cannot wipe a dead engine: quarantined, then removed.
    await h.http('POST', `/v1/hosts/${hostId}/release`, { token: operator });
    const quarantined = await waitFor(() => h.view.index.host(hostId)?.quarantine, {
      description: 'the host quarantined',
    });
    expect(quarantined.reason).toBe('engine_unreachable');
    expect((await h.http('DELETE', `/v1/hosts/${hostId}`, { token: operator })).status).toBe(200);
    expect((await h.http('GET', `/v1/hosts/${hostId}`, { token: operator })).body.code).toBe(
      'host_not_found',
    );
  });
});
