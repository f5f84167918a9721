import { HostCommand } from '../src/domain/host.decider';
import type { HostEvent } from '../src/domain/host.state';
import { registered, stateOf, T0, when } from './placement.fixture';

const R1 = '01937a00-0000-7000-8000-000000000001';
const R2 = '01937a00-0000-7000-8000-000000000002';
const at = new Date(T0).toISOString();

const place = (orgId: string, runtimeId = R1, cpuMillis = 1000, memoryBytes = 2 ** 30): HostCommand => ({
  type: 'place',
  orgId,
  workspaceId: 'ws-1',
  runtimeId,
  cpuMillis,
  memoryBytes,
  now: T0,
});
const assigned = (orgId: string): HostEvent => ({
  type: 'host.assigned',
  data: { hostId: 'h1', orgId, assignedAt: at },
});
const placed = (orgId: string, runtimeId = R1, cpuMillis = 1000, memoryBytes = 2 ** 30): HostEvent => ({
  type: 'runtime.placed',
  data: {
    orgId,
    workspaceId: 'ws-1',
    runtimeId,
    hostId: 'h1',
    placedAt: at,
    resources: { cpuMillis, memoryBytes },
  },
});
const released = (orgId: string): HostEvent => ({
  type: 'host.released',
  data: { hostId: 'h1', orgId, releasedBy: 'user:olga', releasedAt: at },
});
const unhealthy: HostEvent = { type: 'host.unhealthy', data: { hostId: 'h1', detail: 'down', since: at } };
const draining: HostEvent = { type: 'host.draining', data: { hostId: 'h1', drainedBy: 'user:olga', at } };

describe('the host decider', () => {
  const h1 = registered('h1', { cpuMillis: 2000, memoryBytes: 4 * 2 ** 30, runtimes: 2 }, { zone: 'a' });

  it('assigns a free host to the organization of its first runtime, in the same step', () => {
    expect(when([h1], place('acme'))).toEqual([assigned('acme'), placed('acme')]);
    expect(when([h1, assigned('acme'), placed('acme')], place('acme', R2))).toEqual([placed('acme', R2)]);
  });

  it('never puts a second organization on an assigned host, even an empty one', () => {
    expect(when([h1, assigned('acme'), placed('acme')], place('globex', R2))).toBe('host_taken');
    const emptied: HostEvent = {
      type: 'runtime.unplaced',
      data: {
        orgId: 'acme',
        workspaceId: 'ws-1',
        runtimeId: R1,
        hostId: 'h1',
        reason: 'slept',
        unplacedAt: at,
      },
    };
    expect(when([h1, assigned('acme'), placed('acme'), emptied], place('globex', R2))).toBe('host_taken');
  });

  it('refuses unhealthy, draining, wiping and quarantined hosts, missing labels and a full host', () => {
    expect(when([h1, unhealthy], place('acme'))).toBe('host_unhealthy');
    expect(when([h1, draining], place('acme'))).toBe('host_draining');
    expect(when([h1, assigned('acme'), released('acme')], place('acme'))).toBe('host_wiping');
    const quarantined: HostEvent = {
      type: 'host.quarantined',
      data: {
        hostId: 'h1',
        orgId: 'acme',
        reason: 'engine_not_empty',
        detail: '1 container',
        quarantinedAt: at,
      },
    };
    expect(when([h1, assigned('acme'), released('acme'), quarantined], place('acme'))).toBe(
      'host_quarantined',
    );
    expect(when([h1], { ...place('acme'), labels: { zone: 'b' } } as HostCommand)).toBe('labels_mismatch');
    expect(when([h1], place('acme', R1, 2001))).toBe('no_room');
    expect(when([h1, assigned('acme'), placed('acme', R1, 1500)], place('acme', R2, 600))).toBe('no_room');
    const two = [h1, assigned('acme'), placed('acme', R1, 10, 10), placed('acme', R2, 10, 10)];
    expect(when(two, place('acme', '01937a00-0000-7000-8000-000000000003', 10, 10))).toBe('no_room');
  });

  it('places a runtime once: asking again changes nothing, another organization may not reuse its id', () => {
    const history = [h1, assigned('acme'), placed('acme')];
    expect(when(history, place('acme'))).toEqual([]);
    expect(when(history, place('globex'))).toBe('runtime_exists');
  });

  it("marks an unhealthy host and evicts its runtimes; healthy again keeps it the organization's", () => {
    const history = [h1, assigned('acme'), placed('acme')];
    const events = when(history, { type: 'markUnhealthy', detail: 'no engine', now: T0 });
    expect(events).toEqual([
      { type: 'host.unhealthy', data: { hostId: 'h1', orgId: 'acme', detail: 'no engine', since: at } },
      {
        type: 'runtime.evicted',
        data: {
          orgId: 'acme',
          workspaceId: 'ws-1',
          runtimeId: R1,
          hostId: 'h1',
          reason: 'host_unhealthy',
          evictedAt: at,
        },
      },
    ]);
    const after = [...history, ...(events as HostEvent[])];
    expect(when(after, { type: 'markUnhealthy', detail: 'still', now: T0 })).toEqual([]);
    expect(stateOf(after)!.placements.size).toBe(0);
    const healthy = when(after, { type: 'markHealthy', now: T0 }) as HostEvent[];
    expect(healthy).toEqual([{ type: 'host.healthy', data: { hostId: 'h1', orgId: 'acme', at } }]);
    expect(stateOf([...after, ...healthy])).toMatchObject({
      status: 'assigned',
      orgId: 'acme',
      healthy: true,
    });
  });

  it('releases: evicts, then wiping; a wipe frees it, a failed one quarantines it; release again retries', () => {
    const history = [h1, assigned('acme'), placed('acme')];
    const release = when(history, { type: 'release', by: 'user:olga', now: T0 }) as HostEvent[];
    expect(release.map((e) => e.type)).toEqual(['runtime.evicted', 'host.released']);
    const wiping = [...history, ...release];
    expect(stateOf(wiping)).toMatchObject({ status: 'wiping', orgId: 'acme' });
    expect(when(wiping, { type: 'release', by: 'user:olga', now: T0 })).toEqual([]);
    const removed = { containers: 2, volumes: 1, networks: 0, images: 1 };
    const wiped = when(wiping, { type: 'recordWipe', removed, now: T0 }) as HostEvent[];
    expect(wiped).toEqual([
      { type: 'host.wiped', data: { hostId: 'h1', orgId: 'acme', removed, wipedAt: at } },
    ]);
    expect(stateOf([...wiping, ...wiped])).toMatchObject({ status: 'free', orgId: undefined });
    expect(when([...wiping, ...wiped], place('globex'))).toEqual([assigned('globex'), placed('globex')]);

    const failed = when(wiping, {
      type: 'quarantine',
      reason: 'engine_unreachable',
      detail: 'no engine',
      now: T0,
    }) as HostEvent[];
    const quarantined = [...wiping, ...failed];
    expect(stateOf(quarantined)).toMatchObject({ status: 'quarantined', orgId: 'acme' });
    expect(when(quarantined, { type: 'release', by: 'user:olga', now: T0 })).toEqual([released('acme')]);
    expect(when([h1], { type: 'release', by: 'user:olga', now: T0 })).toBe('host_not_assigned');
    expect(when(history, { type: 'recordWipe', removed, now: T0 })).toBe('host_not_wiping');
  });

  it('removes only a host of no organization; a removed host is gone and may be registered again', () => {
    const history = [h1, assigned('acme')];
    expect(when(history, { type: 'remove', by: 'user:olga', now: T0 })).toBe('host_in_use');
    const removed = when([h1], { type: 'remove', by: 'user:olga', now: T0 }) as HostEvent[];
    expect(removed).toEqual([
      { type: 'host.removed', data: { hostId: 'h1', removedBy: 'user:olga', removedAt: at } },
    ]);
    expect(when([h1, ...removed], place('acme'))).toBe('host_not_found');
    const again = registered('h1');
    const { data } = again as Extract<HostEvent, { type: 'host.registered' }>;
    expect(when([h1, ...removed], { type: 'register', ...data, by: 'user:olga', now: T0 })).toEqual([again]);
    expect(when([h1], { type: 'register', ...data, by: 'user:olga', now: T0 })).toBe('host_exists');
  });

  it('drains once; a drained host keeps its runtimes until they end', () => {
    const history = [h1, assigned('acme'), placed('acme')];
    const drained = when(history, { type: 'drain', by: 'user:olga', now: T0 }) as HostEvent[];
    expect(drained).toEqual([
      { type: 'host.draining', data: { hostId: 'h1', orgId: 'acme', drainedBy: 'user:olga', at } },
    ]);
    expect(stateOf([...history, ...drained])!.placements.size).toBe(1);
    expect(when([...history, ...drained], { type: 'drain', by: 'user:olga', now: T0 })).toEqual([]);
  });
});
