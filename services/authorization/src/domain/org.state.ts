import type {
  Allowlists,
  AuthorizationEvent,
  OrgRole,
  PolicyPackName,
  RootPolicyMode,
  WorkspaceGrant,
} from '@palisade/contracts';

export type ElevationStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'closed';

export interface Elevation {
  id: string;
  requester: string;
  workspaceId: string;
  mode: Exclude<RootPolicyMode, 'disabled'>;
  reason: string;
  windowMinutes: number;
  status: ElevationStatus;
  approver?: string;
  /** ms since the epoch, once approved. */
  startsAt?: number;
  expiresAt?: number;
}

export interface Invitation {
  id: string;
  role: OrgRole;
  expiresAt: number;
  used: boolean;
}

/**
 * Everything authorization knows about one organization. The same fold serves the aggregate
 * (its decider) and the in-process projection that answers checks.
 */
export interface OrgState {
  orgId: string;
  name: string;
  members: Map<string, OrgRole>;
  /** userId → workspaceId → grant. */
  grants: Map<string, Map<string, WorkspaceGrant>>;
  rootPolicy: RootPolicyMode;
  elevations: Map<string, Elevation>;
  invitations: Map<string, Invitation>;
  pack: PolicyPackName;
  extensions: Allowlists;
}

export const NO_EXTENSIONS: Allowlists = Object.freeze({ images: [], networks: [], tools: [] }) as Allowlists;

export function newOrg(orgId: string, name: string): OrgState {
  return {
    orgId,
    name,
    members: new Map(),
    grants: new Map(),
    rootPolicy: 'disabled',
    elevations: new Map(),
    invitations: new Map(),
    pack: 'allow_all',
    extensions: NO_EXTENSIONS,
  };
}

/** A copy that shares nothing mutable with the original (the decider's evolve stays pure). */
export function cloneOrg(org: OrgState): OrgState {
  return {
    ...org,
    members: new Map(org.members),
    grants: new Map([...org.grants].map(([user, grants]) => [user, new Map(grants)])),
    elevations: new Map([...org.elevations].map(([id, e]) => [id, { ...e }])),
    invitations: new Map([...org.invitations].map(([id, i]) => [id, { ...i }])),
  };
}

function setRole(org: OrgState, userId: string, role: OrgRole | undefined): void {
  if (role === undefined) org.members.delete(userId);
  else org.members.set(userId, role);
}

/** How many owners the organization has (the last one can be neither removed nor demoted). */
export function ownerCount(org: OrgState): number {
  let owners = 0;
  for (const role of org.members.values()) if (role === 'owner') owners++;
  return owners;
}

/**
 * Applies one event to an organization, in place. Called with `undefined` only for
 * org.created; returns the organization (new for org.created).
 */
export function applyOrgEvent(org: OrgState | undefined, event: AuthorizationEvent): OrgState {
  if (event.type === 'org.created') {
    const created = newOrg(event.data.orgId, event.data.name);
    setRole(created, event.data.owner, 'owner');
    return created;
  }
  if (!org) throw new Error(`${event.type} for an organization that was never created`);
  switch (event.type) {
    case 'member.invited':
      org.invitations.set(event.data.invitationId, {
        id: event.data.invitationId,
        role: event.data.role,
        expiresAt: Date.parse(event.data.expiresAt),
        used: false,
      });
      break;
    case 'member.added': {
      setRole(org, event.data.userId, event.data.role);
      const invitation = event.data.invitationId ? org.invitations.get(event.data.invitationId) : undefined;
      if (invitation) invitation.used = true;
      break;
    }
    case 'member.removed':
      // Every right in the organization ends at once: role and grants here; an elevation
      // grants nothing to a non-member (and the decider closes approved ones with this event).
      setRole(org, event.data.userId, undefined);
      org.grants.delete(event.data.userId);
      break;
    case 'role.changed':
      setRole(org, event.data.userId, event.data.to);
      break;
    case 'grant.added': {
      let grants = org.grants.get(event.data.userId);
      if (!grants) org.grants.set(event.data.userId, (grants = new Map()));
      grants.set(event.data.workspaceId, event.data.grant);
      break;
    }
    case 'grant.removed': {
      const grants = org.grants.get(event.data.userId);
      grants?.delete(event.data.workspaceId);
      if (grants?.size === 0) org.grants.delete(event.data.userId);
      break;
    }
    case 'root_policy.changed':
      org.rootPolicy = event.data.to;
      break;
    case 'elevation.requested':
      org.elevations.set(event.data.elevationId, {
        id: event.data.elevationId,
        requester: event.data.requester,
        workspaceId: event.data.workspaceId,
        mode: event.data.mode,
        reason: event.data.reason,
        windowMinutes: event.data.windowMinutes,
        status: 'pending',
      });
      break;
    case 'elevation.approved': {
      const elevation = org.elevations.get(event.data.elevationId);
      if (elevation) {
        elevation.status = 'approved';
        elevation.approver = event.data.approver;
        elevation.startsAt = Date.parse(event.data.startsAt);
        elevation.expiresAt = Date.parse(event.data.expiresAt);
      }
      break;
    }
    case 'elevation.denied': {
      const elevation = org.elevations.get(event.data.elevationId);
      if (elevation) {
        elevation.status = 'denied';
        elevation.approver = event.data.approver;
      }
      break;
    }
    case 'elevation.expired': {
      const elevation = org.elevations.get(event.data.elevationId);
      if (elevation) elevation.status = 'expired';
      break;
    }
    case 'elevation.closed': {
      const elevation = org.elevations.get(event.data.elevationId);
      if (elevation) elevation.status = 'closed';
      break;
    }
    case 'policy_pack.changed':
      org.pack = event.data.pack;
      org.extensions = event.data.extensions;
      break;
    default: {
      const unhandled: never = event;
      throw new Error(`unhandled authorization event ${(unhandled as { type: string }).type}`);
    }
  }
  return org;
}
