import type {
  EngineBaseline,
  HostCapacity,
  HostLabels,
  HostProviderName,
  PlacementEvent,
} from '@palisade/contracts';

/**
 * A host's life cycle: `free` (in the pool) → `assigned` (to one organization) → `wiping`
 * (released) → `free` again, or `quarantined` when the wipe failed (released again: another
 * wipe). Only a host of no organization (free or quarantined) can be `removed`.
 */
export type HostStatus = 'free' | 'assigned' | 'wiping' | 'quarantined' | 'removed';

/** A runtime's place on a host: what it reserves. */
export interface RuntimePlacement {
  readonly runtimeId: string;
  readonly orgId: string;
  readonly workspaceId: string;
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  readonly placedAt: string;
}

export interface HostState {
  readonly hostId: string;
  readonly engineUrl: string;
  readonly provider: HostProviderName;
  readonly capacity: HostCapacity;
  readonly labels: HostLabels;
  readonly baseline: EngineBaseline;
  readonly registeredAt: string;
  readonly status: HostStatus;
  /** The organization it serves (assigned) or whose leftovers it still holds (wiping, quarantined). */
  readonly orgId?: string;
  readonly healthy: boolean;
  /** Why it is unhealthy (the last failed ping). */
  readonly healthDetail?: string;
  readonly draining: boolean;
  readonly quarantine?: { readonly reason: string; readonly detail: string };
  readonly placements: ReadonlyMap<string, RuntimePlacement>;
  readonly used: { readonly cpuMillis: number; readonly memoryBytes: number };
}

/** The events of a host's stream (`host/<hostId>`). */
export type HostEvent = Extract<PlacementEvent, { type: `host.${string}` | `runtime.${string}` }>;

const HOST_EVENT_NAMES: ReadonlySet<string> = new Set<HostEvent['type']>([
  'host.registered',
  'host.assigned',
  'host.released',
  'host.wiped',
  'host.quarantined',
  'host.unhealthy',
  'host.healthy',
  'host.draining',
  'host.removed',
  'runtime.placed',
  'runtime.evicted',
  'runtime.unplaced',
]);

export function isHostEvent(event: PlacementEvent): event is HostEvent {
  return HOST_EVENT_NAMES.has(event.type);
}

export const hostStreamId = (hostId: string) => `host/${hostId}`;

/** What a placement asks of a host. */
export interface PlacementQuery {
  readonly orgId: string;
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  readonly labels?: HostLabels;
}

/** Whether a host carries every label a placement asks for, with the same value. */
export function labelsMatch(hostLabels: HostLabels, wanted: HostLabels | undefined): boolean {
  if (!wanted) return true;
  for (const key in wanted) {
    if (!Object.hasOwn(wanted, key)) continue;
    if (!Object.hasOwn(hostLabels, key) || hostLabels[key] !== wanted[key]) return false;
  }
  return true;
}

/** Whether an empty host of this capacity could hold the placement. */
export function fitsEmpty(capacity: HostCapacity, query: PlacementQuery): boolean {
  return query.cpuMillis <= capacity.cpuMillis && query.memoryBytes <= capacity.memoryBytes;
}

/** Whether the host has room for the placement beside what it holds. */
export function hasRoom(host: HostState, query: PlacementQuery): boolean {
  return (
    host.used.cpuMillis + query.cpuMillis <= host.capacity.cpuMillis &&
    host.used.memoryBytes + query.memoryBytes <= host.capacity.memoryBytes &&
    host.placements.size + 1 <= host.capacity.runtimes
  );
}

/**
 * How full the host would be with the placement: the fullest of cpu, memory and runtime count
 * (0..1). Best fit takes the host this makes fullest, which keeps large hosts whole.
 */
export function fillAfter(host: HostState, query: PlacementQuery): number {
  return Math.max(
    (host.used.cpuMillis + query.cpuMillis) / host.capacity.cpuMillis,
    (host.used.memoryBytes + query.memoryBytes) / host.capacity.memoryBytes,
    (host.placements.size + 1) / host.capacity.runtimes,
  );
}

/** The stable reasons a host refuses a placement (the decider's rule errors). */
export type HostRefusal =
  | 'host_removed'
  | 'host_unhealthy'
  | 'host_draining'
  | 'host_taken'
  | 'host_wiping'
  | 'host_quarantined'
  | 'labels_mismatch'
  | 'no_room';

/** Why this host cannot take the placement now (undefined: it can). */
export function placeRefusal(host: HostState, query: PlacementQuery): HostRefusal | undefined {
  switch (host.status) {
    case 'removed':
      return 'host_removed';
    case 'wiping':
      return 'host_wiping';
    case 'quarantined':
      return 'host_quarantined';
    case 'assigned':
      if (host.orgId !== query.orgId) return 'host_taken';
      break;
    case 'free':
      break;
    default: {
      const never: never = host.status;
      return never;
    }
  }
  if (!host.healthy) return 'host_unhealthy';
  if (host.draining) return 'host_draining';
  if (!labelsMatch(host.labels, query.labels)) return 'labels_mismatch';
  if (!hasRoom(host, query)) return 'no_room';
  return undefined;
}

const EMPTY: ReadonlyMap<string, RuntimePlacement> = new Map();

function withoutRuntime(state: HostState, runtimeId: string): HostState {
  const placement = state.placements.get(runtimeId);
  if (!placement) return state;
  const placements = new Map(state.placements);
  placements.delete(runtimeId);
  return {
    ...state,
    placements,
    used: {
      cpuMillis: state.used.cpuMillis - placement.cpuMillis,
      memoryBytes: state.used.memoryBytes - placement.memoryBytes,
    },
  };
}

/** Folds one event of a host's stream. */
export function evolveHost(state: HostState | null, event: HostEvent): HostState | null {
  if (event.type === 'host.registered') {
    const d = event.data;
    return {
      hostId: d.hostId,
      engineUrl: d.engineUrl,
      provider: d.provider,
      capacity: d.capacity,
      labels: d.labels,
      baseline: d.baseline,
      registeredAt: d.registeredAt,
      status: 'free',
      healthy: true,
      draining: false,
      placements: EMPTY,
      used: { cpuMillis: 0, memoryBytes: 0 },
    };
  }
  if (!state) throw new Error(`${event.type} for a host that was never registered`);
  switch (event.type) {
    case 'host.assigned':
      return { ...state, status: 'assigned', orgId: event.data.orgId };
    case 'runtime.placed': {
      const d = event.data;
      const cpuMillis = d.resources?.cpuMillis ?? 0;
      const memoryBytes = d.resources?.memoryBytes ?? 0;
      const placements = new Map(state.placements);
      placements.set(d.runtimeId, {
        runtimeId: d.runtimeId,
        orgId: d.orgId,
        workspaceId: d.workspaceId,
        cpuMillis,
        memoryBytes,
        placedAt: d.placedAt,
      });
      return {
        ...state,
        placements,
        used: {
          cpuMillis: state.used.cpuMillis + cpuMillis,
          memoryBytes: state.used.memoryBytes + memoryBytes,
        },
      };
    }
    case 'runtime.unplaced':
    case 'runtime.evicted':
      return withoutRuntime(state, event.data.runtimeId);
    case 'host.released':
      return { ...state, status: 'wiping', orgId: event.data.orgId, quarantine: undefined };
    case 'host.wiped':
      return { ...state, status: 'free', orgId: undefined, draining: false, quarantine: undefined };
    case 'host.quarantined':
      return {
        ...state,
        status: 'quarantined',
        quarantine: { reason: event.data.reason, detail: event.data.detail },
      };
    case 'host.unhealthy':
      return { ...state, healthy: false, healthDetail: event.data.detail };
    case 'host.healthy':
      return { ...state, healthy: true, healthDetail: undefined };
    case 'host.draining':
      return { ...state, draining: true };
    case 'host.removed':
      return {
        ...state,
        status: 'removed',
        orgId: undefined,
        placements: EMPTY,
        used: { cpuMillis: 0, memoryBytes: 0 },
      };
    default: {
      const never: never = event;
      throw new Error(`unhandled host event ${(never as HostEvent).type}`);
    }
  }
}
