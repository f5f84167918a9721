import { deciderSpec } from '@palisade/testing';
import { hostDecider, HostCommand } from '../src/domain/host.decider';
import type { HostEvent } from '../src/domain/host.state';
import { registered, stateOf, T0 } from './placement.fixture';

const host = deciderSpec(hostDecider);

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
    host
      .given([h1])
      .when(place('acme'))
      .then([assigned('acme'), placed('acme')]);
    host
      .given([h1, assigned('acme'), placed('acme')])
      .when(place('acme', R2))
      .then([placed('acme', R2)]);
  });

  it('never puts a second organization on an assigned host, even an empty one', () => {
    host
      .given([h1, assigned('acme'), placed('acme')])
      .when(place('globex', R2))
      .thenError('host_taken');
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
    host
      .given([h1, assigned('acme'), placed('acme'), emptied])
      .when(place('globex', R2))
      .thenError('host_taken');
  });

  it('refuses unhealthy, draining, wiping and quarantined hosts, missing labels and a full host', () => {
    host.given([h1, unhealthy]).when(place('acme')).thenError('host_unhealthy');
    host.given([h1, draining]).when(place('acme')).thenError('host_draining');
    host
      .given([h1, assigned('acme'), released('acme')])
      .when(place('acme'))
      .thenError('host_wiping');
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
    host
      .given([h1, assigned('acme'), released('acme'), quarantined])
      .when(place('acme'))
      .thenError('host_quarantined');
    host
      .given([h1])
      .when({ ...place('acme'), labels: { zone: 'b' } } as HostCommand)
      .thenError('labels_mismatch');
    host
      .given([h1])
      .when(place('acme', R1, 2001))
      .thenError('no_room');
    host
      .given([h1, assigned('acme'), placed('acme', R1, 1500)])
      .when(place('acme', R2, 600))
      .thenError('no_room');
    const two = [h1, assigned('acme'), placed('acme', R1, 10, 10), placed('acme', R2, 10, 10)];
    host
      .given(two)
      .when(place('acme', '01937a00-0000-7000-8000-000000000003', 10, 10))
      .thenError('no_room');
  });

  it('places a runtime once: asking again changes nothing, another organization may not reuse its id', () => {
    const history = [h1, assigned('acme'), placed('acme')];
    host.given(history).when(place('acme')).then([]);
    host.given(history).when(place('globex')).thenError('runtime_exists');
  });

  it("marks an unhealthy host and evicts its runtimes; healthy again keeps it the organization's", () => {
    const history = [h1, assigned('acme'), placed('acme')];
    const events = host.given(history).when({ type: 'markUnhealthy', detail: 'no engine', now: T0 }).decided;
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
    host.given(after).when({ type: 'markUnhealthy', detail: 'still', now: T0 }).then([]);
    expect(stateOf(after)!.placements.size).toBe(0);
    const healthy = host.given(after).when({ type: 'markHealthy', now: T0 }).decided as HostEvent[];
    expect(healthy).toEqual([{ type: 'host.healthy', data: { hostId: 'h1', orgId: 'acme', at } }]);
    expect(stateOf([...after, ...healthy])).toMatchObject({
      status: 'assigned',
      orgId: 'acme',
      healthy: true,
    });
  });

  it('releases: evicts, then wiping; a wipe frees it, a failed one quarantines it; release again retries', () => {
    const history = [h1, assigned('acme'), placed('acme')];
    const release = host.given(history).when({ type: 'release', by: 'user:olga', now: T0 })
      .decided as HostEvent[];
    expect(release.map((e) => e.type)).toEqual(['runtime.evicted', 'host.released']);
    const wiping = [...history, ...release];
    expect(stateOf(wiping)).toMatchObject({ status: 'wiping', orgId: 'acme' });
    host.given(wiping).when({ type: 'release', by: 'user:olga', now: T0 }).then([]);
    const removed = { containers: 2, volumes: 1, networks: 0, images: 1 };
    const wiped = host.given(wiping).when({ type: 'recordWipe', removed, now: T0 }).decided as HostEvent[];
    expect(wiped).toEqual([
      { type: 'host.wiped', data: { hostId: 'h1', orgId: 'acme', removed, wipedAt: at } },
    ]);
    expect(stateOf([...wiping, ...wiped])).toMatchObject({ status: 'free', orgId: undefined });
    host
      .given([...wiping, ...wiped])
      .when(place('globex'))
      .then([assigned('globex'), placed('globex')]);

    const failed = host.given(wiping).when({
      type: 'quarantine',
      reason: 'engine_unreachable',
      detail: 'no engine',
      now: T0,
    }).decided as HostEvent[];
    const quarantined = [...wiping, ...failed];
    expect(stateOf(quarantined)).toMatchObject({ status: 'quarantined', orgId: 'acme' });
    host
      .given(quarantined)
      .when({ type: 'release', by: 'user:olga', now: T0 })
      .then([released('acme')]);
    host.given([h1]).when({ type: 'release', by: 'user:olga', now: T0 }).thenError('host_not_assigned');
    host.given(history).when({ type: 'recordWipe', removed, now: T0 }).thenError('host_not_wiping');
  });

  it('removes only a host of no organization; a removed host is gone and may be registered again', () => {
    const history = [h1, assigned('acme')];
    host.given(history).when({ type: 'remove', by: 'user:olga', now: T0 }).thenError('host_in_use');
    const removed = host.given([h1]).when({ type: 'remove', by: 'user:olga', now: T0 })
      .decided as HostEvent[];
    expect(removed).toEqual([
      { type: 'host.removed', data: { hostId: 'h1', removedBy: 'user:olga', removedAt: at } },
    ]);
    host
      .given([h1, ...removed])
      .when(place('acme'))
      .thenError('host_not_found');
    const again = registered('h1');
    const { data } = again as Extract<HostEvent, { type: 'host.registered' }>;
    host
      .given([h1, ...removed])
      .when({ type: 'register', ...data, by: 'user:olga', now: T0 })
      .then([again]);
    host
      .given([h1])
      .when({ type: 'register', ...data, by: 'user:olga', now: T0 })
      .thenError('host_exists');
  });

  it('drains once; a drained host keeps its runtimes until they end', () => {
    const history = [h1, assigned('acme'), placed('acme')];
    const drained = host.given(history).when({ type: 'drain', by: 'user:olga', now: T0 })
      .decided as HostEvent[];
    expect(drained).toEqual([
      { type: 'host.draining', data: { hostId: 'h1', orgId: 'acme', drainedBy: 'user:olga', at } },
    ]);
    expect(stateOf([...history, ...drained])!.placements.size).toBe(1);
    host
      .given([...history, ...drained])
      .when({ type: 'drain', by: 'user:olga', now: T0 })
      .then([]);
  });
});
