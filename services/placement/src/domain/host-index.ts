import type { HostLabels } from '@palisade/contracts';
import type { FreeClass, PlacementCandidates } from './decision';
import { HostState, labelsMatch } from './host.state';

interface MutableFreeClass {
  capacity: HostState['capacity'];
  labels: HostLabels;
  /** Host ids, sorted. */
  ids: string[];
}

/** Where `id` is, or would go, in the sorted `ids`. */
function lowerBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sortedInsert(ids: string[], id: string): void {
  const at = lowerBound(ids, id);
  if (ids[at] !== id) ids.splice(at, 0, id);
}

function sortedRemove(ids: string[], id: string): void {
  const at = lowerBound(ids, id);
  if (ids[at] === id) ids.splice(at, 1);
}

const labelPairs = (labels: HostLabels) =>
  Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`);

function classKey(host: HostState): string {
  const c = host.capacity;
  return `${c.cpuMillis}/${c.memoryBytes}/${c.runtimes}|${labelPairs(host.labels).join(',')}`;
}

const inFreePool = (host: HostState) => host.status === 'free' && host.healthy && !host.draining;

/**
 * The hosts placement knows, indexed for the decision: by organization (its assigned hosts),
 * the free pool by class of interchangeable hosts, hosts by label, and runtimes by host. A
 * decision reads the organization's few hosts and the few free classes, never every host.
 * Pure data: the view keeps it current with every host's latest state.
 */
export class HostIndex implements PlacementCandidates {
  private readonly hosts = new Map<string, HostState>();
  private readonly byOrg = new Map<string, Map<string, HostState>>();
  private readonly free = new Map<string, MutableFreeClass>();
  private readonly byLabel = new Map<string, Set<string>>();
  private readonly runtimes = new Map<string, string>();
  private readonly organizations = new Set<string>();

  /** Replaces what the index knows of a host (`state` null or removed: forgets it). */
  put(hostId: string, state: HostState | null): void {
    const before = this.hosts.get(hostId);
    const after = state && state.status !== 'removed' ? state : undefined;
    if (before === after) return;
    if (before) this.unindex(before, after);
    if (after) this.index(after, before);
    if (after) this.hosts.set(hostId, after);
    else this.hosts.delete(hostId);
  }

  private unindex(before: HostState, after: HostState | undefined): void {
    if (
      before.orgId &&
      before.status === 'assigned' &&
      (after?.status !== 'assigned' || after.orgId !== before.orgId)
    ) {
      const hosts = this.byOrg.get(before.orgId)!;
      hosts.delete(before.hostId);
      if (hosts.size === 0) this.byOrg.delete(before.orgId);
    }
    if (inFreePool(before) && !(after && inFreePool(after) && classKey(after) === classKey(before))) {
      const key = classKey(before);
      const free = this.free.get(key)!;
      sortedRemove(free.ids, before.hostId);
      if (free.ids.length === 0) this.free.delete(key);
    }
    if (!after || after.labels !== before.labels)
      for (const pair of labelPairs(before.labels)) {
        const ids = this.byLabel.get(pair)!;
        ids.delete(before.hostId);
        if (ids.size === 0) this.byLabel.delete(pair);
      }
    if (before.placements !== after?.placements)
      for (const runtimeId of before.placements.keys())
        if (!after?.placements.has(runtimeId)) this.runtimes.delete(runtimeId);
  }

  private index(after: HostState, before: HostState | undefined): void {
    if (after.status === 'assigned' && after.orgId) {
      let hosts = this.byOrg.get(after.orgId);
      if (!hosts) this.byOrg.set(after.orgId, (hosts = new Map()));
      hosts.set(after.hostId, after);
    }
    if (inFreePool(after)) {
      const key = classKey(after);
      let free = this.free.get(key);
      if (!free) this.free.set(key, (free = { capacity: after.capacity, labels: after.labels, ids: [] }));
      sortedInsert(free.ids, after.hostId);
    }
    if (!before || before.labels !== after.labels)
      for (const pair of labelPairs(after.labels)) {
        let ids = this.byLabel.get(pair);
        if (!ids) this.byLabel.set(pair, (ids = new Set()));
        ids.add(after.hostId);
      }
    if (before?.placements !== after.placements)
      for (const runtimeId of after.placements.keys())
        if (!before?.placements.has(runtimeId)) this.runtimes.set(runtimeId, after.hostId);
  }

  addOrganization(orgId: string): void {
    this.organizations.add(orgId);
  }

  knowsOrganization(orgId: string): boolean {
    return this.organizations.has(orgId);
  }

  hostsOf(orgId: string): Iterable<HostState> {
    return this.byOrg.get(orgId)?.values() ?? [];
  }

  *freeClasses(): Iterable<FreeClass> {
    for (const free of this.free.values())
      yield { capacity: free.capacity, labels: free.labels, first: this.hosts.get(free.ids[0])! };
  }

  *hostsMatching(labels: HostLabels | undefined): Iterable<HostState> {
    const pairs = labels ? labelPairs(labels) : [];
    if (pairs.length === 0) {
      yield* this.hosts.values();
      return;
    }
    // Start from the rarest label: every match carries it.
    let smallest: Set<string> | undefined;
    for (const pair of pairs) {
      const ids = this.byLabel.get(pair);
      if (!ids) return;
      if (!smallest || ids.size < smallest.size) smallest = ids;
    }
    for (const id of smallest!) {
      const host = this.hosts.get(id)!;
      if (labelsMatch(host.labels, labels)) yield host;
    }
  }

  host(hostId: string): HostState | undefined {
    return this.hosts.get(hostId);
  }

  /** The host a runtime is placed on. */
  hostOfRuntime(runtimeId: string): HostState | undefined {
    const hostId = this.runtimes.get(runtimeId);
    return hostId === undefined ? undefined : this.hosts.get(hostId);
  }

  /** Every registered host (not removed). */
  all(): IterableIterator<HostState> {
    return this.hosts.values();
  }

  get size(): number {
    return this.hosts.size;
  }

  /** The free pool's size (for metrics and tests). */
  get freeCount(): number {
    let n = 0;
    for (const free of this.free.values()) n += free.ids.length;
    return n;
  }
}
