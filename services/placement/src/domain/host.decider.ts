import type { EngineBaseline, HostCapacity, HostLabels, HostProviderName } from '@palisade/contracts';
import { RuleError } from '@palisade/domain';
import type { Decider } from '@palisade/domain';
import { evolveHost, HostEvent, HostState, placeRefusal } from './host.state';

/** Commands on one host's aggregate. `now` is ms since the epoch; `by` the actor. */
export type HostCommand =
  | {
      type: 'register';
      hostId: string;
      engineUrl: string;
      provider: HostProviderName;
      capacity: HostCapacity;
      labels: HostLabels;
      baseline: EngineBaseline;
      by: string;
      now: number;
    }
  | {
      type: 'place';
      orgId: string;
      workspaceId: string;
      runtimeId: string;
      cpuMillis: number;
      memoryBytes: number;
      labels?: HostLabels;
      now: number;
    }
  | { type: 'unplace'; runtimeId: string; reason: 'unplaced' | 'slept' | 'failed'; now: number }
  | { type: 'markUnhealthy'; detail: string; now: number }
  | { type: 'markHealthy'; now: number }
  | { type: 'drain'; by: string; now: number }
  | { type: 'release'; by: string; now: number }
  | {
      type: 'recordWipe';
      removed: { containers: number; volumes: number; networks: number; images: number };
      now: number;
    }
  | {
      type: 'quarantine';
      reason: 'engine_unreachable' | 'wipe_failed' | 'engine_not_empty';
      detail: string;
      now: number;
    }
  | { type: 'remove'; by: string; now: number };

type E = HostEvent;
type Command<K extends HostCommand['type']> = Extract<HostCommand, { type: K }>;

const iso = (ms: number) => new Date(ms).toISOString();

const REFUSAL_MESSAGES: Record<NonNullable<ReturnType<typeof placeRefusal>>, string> = {
  host_removed: 'the host was removed',
  host_unhealthy: "the host's engine does not answer",
  host_draining: 'the host is draining: nothing new is placed on it',
  host_taken: 'the host belongs to another organization',
  host_wiping: 'the host is being wiped',
  host_quarantined: 'the host is quarantined after a failed wipe',
  labels_mismatch: 'the host does not carry the labels asked for',
  no_room: 'the host has no room for this runtime',
};

function requireHost(state: HostState | null): HostState {
  if (!state || state.status === 'removed')
    throw new RuleError(404, 'host_not_found', 'there is no such host');
  return state;
}

function register(state: HostState | null, c: Command<'register'>): E[] {
  if (state && state.status !== 'removed')
    throw new RuleError(409, 'host_exists', `host ${c.hostId} is registered already`);
  return [
    {
      type: 'host.registered',
      data: {
        hostId: c.hostId,
        engineUrl: c.engineUrl,
        provider: c.provider,
        capacity: c.capacity,
        labels: c.labels,
        baseline: c.baseline,
        registeredBy: c.by,
        registeredAt: iso(c.now),
      },
    },
  ];
}

/** A free host is assigned to the organization in the same step as its first runtime. */
function place(host: HostState, c: Command<'place'>): E[] {
  const existing = host.placements.get(c.runtimeId);
  if (existing) {
    if (existing.orgId !== c.orgId)
      throw new RuleError(409, 'runtime_exists', 'this runtime id is placed for another organization');
    return [];
  }
  const refusal = placeRefusal(host, c);
  if (refusal) throw new RuleError(409, refusal, REFUSAL_MESSAGES[refusal]);
  const at = iso(c.now);
  const placed: E = {
    type: 'runtime.placed',
    data: {
      orgId: c.orgId,
      workspaceId: c.workspaceId,
      runtimeId: c.runtimeId,
      hostId: host.hostId,
      placedAt: at,
      resources: { cpuMillis: c.cpuMillis, memoryBytes: c.memoryBytes },
    },
  };
  if (host.status === 'assigned') return [placed];
  return [{ type: 'host.assigned', data: { hostId: host.hostId, orgId: c.orgId, assignedAt: at } }, placed];
}

function unplace(host: HostState, c: Command<'unplace'>): E[] {
  const placement = host.placements.get(c.runtimeId);
  if (!placement) return [];
  return [
    {
      type: 'runtime.unplaced',
      data: {
        orgId: placement.orgId,
        workspaceId: placement.workspaceId,
        runtimeId: placement.runtimeId,
        hostId: host.hostId,
        reason: c.reason,
        unplacedAt: iso(c.now),
      },
    },
  ];
}

function evictAll(host: HostState, reason: 'host_unhealthy' | 'host_released', now: number): E[] {
  return [...host.placements.values()].map((p) => ({
    type: 'runtime.evicted' as const,
    data: {
      orgId: p.orgId,
      workspaceId: p.workspaceId,
      runtimeId: p.runtimeId,
      hostId: host.hostId,
      reason,
      evictedAt: iso(now),
    },
  }));
}

/** An engine that stopped answering loses its runtimes: the runtime-scheduler learns it from the evictions. */
function markUnhealthy(host: HostState, c: Command<'markUnhealthy'>): E[] {
  if (!host.healthy) return [];
  return [
    {
      type: 'host.unhealthy',
      data: { hostId: host.hostId, orgId: host.orgId, detail: c.detail.slice(0, 500), since: iso(c.now) },
    },
    ...evictAll(host, 'host_unhealthy', c.now),
  ];
}

function markHealthy(host: HostState, c: Command<'markHealthy'>): E[] {
  if (host.healthy) return [];
  return [{ type: 'host.healthy', data: { hostId: host.hostId, orgId: host.orgId, at: iso(c.now) } }];
}

function drain(host: HostState, c: Command<'drain'>): E[] {
  if (host.draining) return [];
  return [
    {
      type: 'host.draining',
      data: { hostId: host.hostId, orgId: host.orgId, drainedBy: c.by, at: iso(c.now) },
    },
  ];
}

/** Releasing evicts the runtimes and starts the wipe; releasing a quarantined host wipes it again. */
function release(host: HostState, c: Command<'release'>): E[] {
  switch (host.status) {
    case 'wiping':
      return [];
    case 'free':
      throw new RuleError(
        409,
        'host_not_assigned',
        'the host belongs to no organization: nothing to release',
      );
    case 'assigned':
    case 'quarantined':
      return [
        ...evictAll(host, 'host_released', c.now),
        {
          type: 'host.released',
          data: { hostId: host.hostId, orgId: host.orgId!, releasedBy: c.by, releasedAt: iso(c.now) },
        },
      ];
    case 'removed':
      throw new RuleError(404, 'host_not_found', 'there is no such host');
    default: {
      const never: never = host.status;
      return never;
    }
  }
}

function requireWiping(host: HostState): string {
  if (host.status !== 'wiping') throw new RuleError(409, 'host_not_wiping', 'the host is not being wiped');
  return host.orgId!;
}

function recordWipe(host: HostState, c: Command<'recordWipe'>): E[] {
  const orgId = requireWiping(host);
  return [
    { type: 'host.wiped', data: { hostId: host.hostId, orgId, removed: c.removed, wipedAt: iso(c.now) } },
  ];
}

function quarantine(host: HostState, c: Command<'quarantine'>): E[] {
  const orgId = requireWiping(host);
  return [
    {
      type: 'host.quarantined',
      data: {
        hostId: host.hostId,
        orgId,
        reason: c.reason,
        detail: c.detail.slice(0, 500),
        quarantinedAt: iso(c.now),
      },
    },
  ];
}

/** Only a host of no organization leaves: an assigned one is released (and wiped) first. */
function remove(host: HostState, c: Command<'remove'>): E[] {
  if (host.status === 'assigned' || host.status === 'wiping')
    throw new RuleError(
      409,
      'host_in_use',
      host.status === 'assigned'
        ? `the host belongs to ${host.orgId}: release it first (palisade host release ${host.hostId})`
        : 'the host is being wiped; remove it once it is free or quarantined',
    );
  return [{ type: 'host.removed', data: { hostId: host.hostId, removedBy: c.by, removedAt: iso(c.now) } }];
}

function decide(state: HostState | null, command: HostCommand): E[] {
  if (command.type === 'register') return register(state, command);
  const host = requireHost(state);
  switch (command.type) {
    case 'place':
      return place(host, command);
    case 'unplace':
      return unplace(host, command);
    case 'markUnhealthy':
      return markUnhealthy(host, command);
    case 'markHealthy':
      return markHealthy(host, command);
    case 'drain':
      return drain(host, command);
    case 'release':
      return release(host, command);
    case 'recordWipe':
      return recordWipe(host, command);
    case 'quarantine':
      return quarantine(host, command);
    case 'remove':
      return remove(host, command);
    default: {
      const never: never = command;
      return never;
    }
  }
}

/** The host aggregate: `host/<hostId>`. */
export const hostDecider: Decider<HostState | null, HostCommand, HostEvent> = {
  initialState: null,
  decide,
  evolve: evolveHost,
};
