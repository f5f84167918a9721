import fc from 'fast-check';
import type { HostLabels } from '@palisade/contracts';
import { scanPlacement } from '../bench/full-scan';
import { decidePlacement, PlacementDecision, ProviderOffer } from '../src/domain/decision';
import { RuleError } from '@palisade/domain';
import { hostDecider, HostCommand } from '../src/domain/host.decider';
import { HostIndex } from '../src/domain/host-index';
import type { HostEvent, HostState } from '../src/domain/host.state';
import { EMPTY_BASELINE, T0 } from './placement.fixture';

const ORGS = ['acme', 'globex', 'initech'];
const ZONES = ['a', 'b'];
const GiB = 2 ** 30;

type Step =
  | { type: 'register'; cpu: number; memory: number; runtimes: number; zone?: string }
  | { type: 'place'; requests: Array<{ org: string; cpu: number; memory: number; zone?: string }> }
  | { type: 'unplace'; pick: number }
  | { type: 'release' | 'fail' | 'recover' | 'drain' | 'remove'; pick: number }
  | { type: 'wipe'; pick: number; ok: boolean }
  | { type: 'provider'; available: boolean; fails: boolean };

const zone = fc.option(fc.constantFrom(...ZONES), { nil: undefined });
const request = fc.record({
  org: fc.constantFrom(...ORGS, 'unknown-org'),
  cpu: fc.integer({ min: 1, max: 3000 }),
  memory: fc.integer({ min: 1, max: 6 * GiB }),
  zone,
});
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    type: fc.constant('register' as const),
    cpu: fc.constantFrom(1000, 2000, 4000),
    memory: fc.constantFrom(2 * GiB, 4 * GiB),
    runtimes: fc.integer({ min: 1, max: 4 }),
    zone,
  }),
  // One or several placements decided on the same view, then appended in turn: concurrent ones.
  {
    arbitrary: fc.record({
      type: fc.constant('place' as const),
      requests: fc.array(request, { minLength: 1, maxLength: 4 }),
    }),
    weight: 4,
  },
  fc.record({ type: fc.constant('unplace' as const), pick: fc.nat() }),
  fc.record({
    type: fc.constantFrom(
      'release' as const,
      'fail' as const,
      'recover' as const,
      'drain' as const,
      'remove' as const,
    ),
    pick: fc.nat(),
  }),
  fc.record({ type: fc.constant('wipe' as const), pick: fc.nat(), ok: fc.boolean() }),
  fc.record({ type: fc.constant('provider' as const), available: fc.boolean(), fails: fc.boolean() }),
);

/**
 * The placement write path, without I/O: host streams with versions (the store), the index the
 * decision reads (the view), decisions made on a view that concurrent placements may have
 * changed, appends that check the stream's version, and the same retry as PlacementCommands.
 */
class World {
  readonly streams = new Map<string, { state: HostState | null; version: number }>();
  readonly index = new HostIndex();
  readonly placedOn = new Map<string, string>();
  provider: { available: boolean; fails: boolean } = { available: false, fails: false };
  private hostCount = 0;
  private runtimeCount = 0;
  readonly violations: string[] = [];

  constructor() {
    for (const org of ORGS) this.index.addOrganization(org);
  }

  hostIds(): string[] {
    return [...this.streams.keys()].sort();
  }

  /** Appends what the decider decides on the stream's current state, if `expectedVersion` still holds. */
  append(hostId: string, command: HostCommand, expectedVersion?: number): HostEvent[] | 'conflict' {
    const stream = this.streams.get(hostId) ?? { state: null, version: 0 };
    if (expectedVersion !== undefined && expectedVersion !== stream.version) return 'conflict';
    const before = stream.state;
    const events = hostDecider.decide(before, command);
    const after = events.reduce<HostState | null>((s, e) => hostDecider.evolve(s, e), before);
    for (const event of events) this.check(before, event);
    this.streams.set(hostId, { state: after, version: stream.version + events.length });
    this.index.put(hostId, after);
    for (const event of events) {
      if (event.type === 'runtime.placed') this.placedOn.set(event.data.runtimeId, hostId);
      if (event.type === 'runtime.unplaced' || event.type === 'runtime.evicted')
        this.placedOn.delete(event.data.runtimeId);
    }
    return events;
  }

  /** No runtime lands on an unassigned-to-it, unhealthy, draining, wiping or quarantined host. */
  private check(before: HostState | null, event: HostEvent): void {
    if (event.type !== 'runtime.placed') return;
    const org = event.data.orgId;
    const ok =
      before !== null &&
      before.healthy &&
      !before.draining &&
      (before.status === 'free' || (before.status === 'assigned' && before.orgId === org));
    if (!ok)
      this.violations.push(
        `placed ${org} on ${JSON.stringify(before && { ...before, placements: undefined })}`,
      );
  }

  register(
    cpu: number,
    memory: number,
    runtimes: number,
    labels: HostLabels,
    provider: 'static' | 'local' = 'static',
  ) {
    const hostId = `h${String(++this.hostCount).padStart(3, '0')}`;
    this.append(hostId, {
      type: 'register',
      hostId,
      engineUrl: `unix:///run/${hostId}.sock`,
      provider,
      capacity: { cpuMillis: cpu, memoryBytes: memory, runtimes },
      labels,
      baseline: EMPTY_BASELINE,
      by: 'user:olga',
      now: T0,
    });
  }

  offer(): ProviderOffer | undefined {
    return this.provider.available
      ? { capacity: { cpuMillis: 2000, memoryBytes: 4 * GiB, runtimes: 3 }, labels: {} }
      : undefined;
  }

  decide(query: Parameters<typeof decidePlacement>[1]): PlacementDecision {
    const offer = this.offer();
    const indexed = decidePlacement(this.index, query, offer);
    const scanned = scanPlacement(
      [...this.streams.values()].map((s) => s.state!).filter(Boolean),
      (org) => this.index.knowsOrganization(org),
      query,
      offer,
    );
    expect(indexed).toEqual(scanned);
    return indexed;
  }

  /** Several placements decided on one view, then each appended in turn (the same loop as PlacementCommands). */
  placeConcurrently(requests: Step & { type: 'place' }) {
    const pending = requests.requests.map((r) => ({
      query: {
        orgId: r.org,
        cpuMillis: r.cpu,
        memoryBytes: r.memory,
        labels: r.zone ? { zone: r.zone } : undefined,
      },
      runtimeId: `r${++this.runtimeCount}`,
    }));
    // The decisions are all made on the same view; each append expects the version that view had.
    const seen = new Map([...this.streams].map(([hostId, stream]) => [hostId, stream.version]));
    const decisions = pending.map((p) => this.decide(p.query));
    for (const [i, p] of pending.entries()) {
      for (let d = decisions[i], attempt = 0; attempt < 8; attempt++, d = this.decide(p.query)) {
        if (d.kind === 'refuse') break;
        if (d.kind === 'provision') {
          if (this.provider.fails) break;
          this.register(2000, 4 * GiB, 3, {}, 'local');
          continue;
        }
        try {
          const result = this.append(
            d.hostId,
            { type: 'place', ...p.query, workspaceId: 'ws-1', runtimeId: p.runtimeId, now: T0 },
            attempt === 0 ? seen.get(d.hostId) : undefined,
          );
          if (result !== 'conflict') break;
        } catch (error) {
          if (!(error instanceof RuleError)) throw error;
        }
      }
    }
  }

  run(s: Step): void {
    const ids = this.hostIds();
    const pick = (n: number) => ids[n % ids.length];
    const attempt = (hostId: string, command: HostCommand) => {
      try {
        this.append(hostId, command);
      } catch (error) {
        if (!(error instanceof RuleError)) throw error;
      }
    };
    switch (s.type) {
      case 'register':
        return this.register(s.cpu, s.memory, s.runtimes, s.zone ? { zone: s.zone } : {});
      case 'place':
        return this.placeConcurrently(s);
      case 'provider':
        this.provider = { available: s.available, fails: s.fails };
        return;
      case 'unplace': {
        const runtimes = [...this.placedOn.keys()].sort();
        if (runtimes.length === 0) return;
        const runtimeId = runtimes[s.pick % runtimes.length];
        return attempt(this.placedOn.get(runtimeId)!, {
          type: 'unplace',
          runtimeId,
          reason: 'slept',
          now: T0,
        });
      }
      default:
        if (ids.length === 0) return;
    }
    const hostId = pick(s.pick);
    switch (s.type) {
      case 'release':
        return attempt(hostId, { type: 'release', by: 'user:olga', now: T0 });
      case 'fail':
        return attempt(hostId, { type: 'markUnhealthy', detail: 'engine gone', now: T0 });
      case 'recover':
        return attempt(hostId, { type: 'markHealthy', now: T0 });
      case 'drain':
        return attempt(hostId, { type: 'drain', by: 'user:olga', now: T0 });
      case 'remove':
        return attempt(hostId, { type: 'remove', by: 'user:olga', now: T0 });
      case 'wipe': {
        const before = this.streams.get(hostId)!.state;
        attempt(
          hostId,
          s.ok
            ? { type: 'recordWipe', removed: { containers: 1, volumes: 0, networks: 0, images: 0 }, now: T0 }
            : { type: 'quarantine', reason: 'engine_not_empty', detail: '1 container', now: T0 },
        );
        // Every released host ends wiped and free, or quarantined.
        if (before?.status === 'wiping') {
          const after = this.streams.get(hostId)!.state!;
          expect(
            s.ok ? after.status === 'free' && after.orgId === undefined : after.status === 'quarantined',
          ).toBe(true);
        }
        return;
      }
    }
  }

  /** The invariants, over every host. */
  assertInvariants(): void {
    expect(this.violations).toEqual([]);
    for (const { state } of this.streams.values()) {
      if (!state) continue;
      const orgs = new Set([...state.placements.values()].map((p) => p.orgId));
      expect(orgs.size).toBeLessThanOrEqual(1);
      if (orgs.size) {
        expect(state.status).toBe('assigned');
        expect(orgs.has(state.orgId!)).toBe(true);
      }
      expect(state.used.cpuMillis).toBeLessThanOrEqual(state.capacity.cpuMillis);
      expect(state.used.memoryBytes).toBeLessThanOrEqual(state.capacity.memoryBytes);
      expect(state.placements.size).toBeLessThanOrEqual(state.capacity.runtimes);
      if (state.status === 'free' || state.status === 'removed') expect(state.orgId).toBeUndefined();
    }
    // The index agrees with the streams.
    for (const org of ORGS) {
      const indexed = [...this.index.hostsOf(org)].map((h) => h.hostId).sort();
      const scanned = [...this.streams.values()]
        .filter((s) => s.state?.status === 'assigned' && s.state.orgId === org)
        .map((s) => s.state!.hostId)
        .sort();
      expect(indexed).toEqual(scanned);
    }
    for (const [runtimeId, hostId] of this.placedOn)
      expect(this.index.hostOfRuntime(runtimeId)?.hostId).toBe(hostId);
  }
}

describe('placement properties (invariant 1: one organization per host)', () => {
  it('over random registrations, concurrent placements, releases, wipes, host and provider failures', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const world = new World();
        for (const s of steps) {
          world.run(s);
          world.assertInvariants();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('concurrent placements of different organizations never share a free host', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.constantFrom(...ORGS), { minLength: 2, maxLength: 6 }),
        (hosts, orgs) => {
          const world = new World();
          for (let i = 0; i < hosts; i++) world.register(4000, 8 * GiB, 10, {});
          world.run({ type: 'place', requests: orgs.map((org) => ({ org, cpu: 100, memory: 1024 })) });
          world.assertInvariants();
          const owners = new Map<string, Set<string>>();
          for (const { state } of world.streams.values())
            for (const p of state!.placements.values())
              owners.set(state!.hostId, (owners.get(state!.hostId) ?? new Set()).add(p.orgId));
          for (const set of owners.values()) expect(set.size).toBe(1);
          // Every organization got a host, as long as there were enough.
          const placedOrgs = new Set([...world.placedOn.keys()].map((r) => r));
          if (new Set(orgs).size <= hosts) expect(placedOrgs.size).toBe(orgs.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
