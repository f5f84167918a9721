import type {
  Allowlists,
  AuthorizationEvent,
  AuthzAction,
  OrgRole,
  PolicyPackName,
  RootPolicyMode,
  WorkspaceGrant,
} from '@palisade/contracts';
import { AUTHORIZATION_STREAMS } from '@palisade/contracts';
import { RuleError } from '@palisade/domain';
import type { Decider } from '@palisade/domain';
import { check, holdsWorkspaceAccess } from './check';
import { applyOrgEvent, cloneOrg, OrgState, ownerCount } from './org.state';

/** Commands on one organization's aggregate. `by` is the acting user; `now` is ms since the epoch. */
export type OrgCommand =
  | { type: 'createOrg'; orgId: string; name: string; by: string }
  | { type: 'invite'; invitationId: string; role: OrgRole; expiresInMinutes: number; by: string; now: number }
  | { type: 'acceptInvitation'; invitationId: string; by: string; now: number }
  | { type: 'addMember'; userId: string; role: OrgRole; by: string; now: number }
  | { type: 'removeMember'; userId: string; by: string; now: number }
  | { type: 'changeRole'; userId: string; role: OrgRole; by: string; now: number }
  | { type: 'addGrant'; userId: string; workspaceId: string; grant: WorkspaceGrant; by: string; now: number }
  | { type: 'removeGrant'; userId: string; workspaceId: string; by: string; now: number }
  | { type: 'setRootPolicy'; mode: RootPolicyMode; by: string; now: number }
  | {
      type: 'requestElevation';
      elevationId: string;
      workspaceId: string;
      reason: string;
      windowMinutes: number;
      by: string;
      now: number;
    }
  | { type: 'approveElevation'; elevationId: string; by: string; now: number }
  | { type: 'denyElevation'; elevationId: string; reason?: string; by: string; now: number }
  | { type: 'endElevation'; elevationId: string; by: string; now: number }
  /** The system's sweep: closes an approved elevation whose window has passed. */
  | { type: 'expireElevation'; elevationId: string; now: number }
  | { type: 'setPolicyPack'; pack: PolicyPackName; extensions: Allowlists; by: string; now: number };

export const SYSTEM_ACTOR = 'system';
const MAX_INVITATION_MINUTES = 14 * 24 * 60;

type E = AuthorizationEvent;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function requireOrg(state: OrgState | null): OrgState {
  if (!state) throw new RuleError(404, 'org_not_found', 'there is no such organization');
  return state;
}

/** The acting user must pass the policy table for this action. */
function authorize(
  org: OrgState,
  by: string,
  action: AuthzAction,
  now: number,
  resource: { workspaceId?: string; elevationId?: string } = {},
): void {
  const decision = check(
    org,
    { subject: { kind: 'user', userId: by }, action, resource: { orgId: org.orgId, ...resource } },
    now,
  );
  if (!decision.allowed)
    throw new RuleError(403, decision.reason, `${action} is not allowed here (${decision.reason}).`);
}

function requireMember(org: OrgState, userId: string): OrgRole {
  const role = org.members.get(userId);
  if (!role) throw new RuleError(404, 'member_not_found', `${userId} is not a member of ${org.orgId}`);
  return role;
}

/** Only an owner makes, unmakes or removes an owner. */
function requireOwnerFor(org: OrgState, by: string): void {
  if (org.members.get(by) !== 'owner')
    throw new RuleError(403, 'owner_required', 'only an owner can grant, change or remove the owner role');
}

function requireElevation(org: OrgState, elevationId: string) {
  const elevation = org.elevations.get(elevationId);
  if (!elevation) throw new RuleError(404, 'elevation_not_found', 'there is no such elevation request');
  return elevation;
}

/**
 * Closeout events for approved elevations that `events` take the ground from: the requester
 * leaves, becomes a reviewer or loses its grant on the workspace.
 */
function closeElevationsAfter(org: OrgState, events: E[], by: string, now: number): E[] {
  const after = events.reduce((s, e) => applyOrgEvent(s, e), cloneOrg(org));
  return [...org.elevations.values()]
    .filter((e) => e.status === 'approved' && !holdsWorkspaceAccess(after, e.requester, e.workspaceId))
    .map((e) => ({
      type: 'elevation.closed' as const,
      data: {
        orgId: org.orgId,
        elevationId: e.id,
        requester: e.requester,
        approver: e.approver!,
        workspaceId: e.workspaceId,
        startedAt: iso(e.startsAt!),
        endedAt: iso(Math.min(now, e.expiresAt!)),
        outcome: after.members.has(e.requester) ? ('access_removed' as const) : ('member_removed' as const),
        closedBy: by,
      },
    }));
}

/** The command of one type, with the organization it acts on. */
type Handler<T extends OrgCommand['type']> = (
  org: OrgState,
  command: Extract<OrgCommand, { type: T }>,
) => E[];

function createOrg(state: OrgState | null, command: Extract<OrgCommand, { type: 'createOrg' }>): E[] {
  if (state) throw new RuleError(409, 'org_exists', `organization ${command.orgId} exists already`);
  return [{ type: 'org.created', data: { orgId: command.orgId, name: command.name, owner: command.by } }];
}

const invite: Handler<'invite'> = (org, command) => {
  authorize(org, command.by, 'member.manage', command.now);
  if (command.role === 'owner') requireOwnerFor(org, command.by);
  if (command.expiresInMinutes < 5 || command.expiresInMinutes > MAX_INVITATION_MINUTES)
    throw new RuleError(422, 'invalid_expiry', 'an invitation expires in 5 minutes to 14 days');
  return [
    {
      type: 'member.invited',
      data: {
        orgId: org.orgId,
        invitationId: command.invitationId,
        role: command.role,
        invitedBy: command.by,
        expiresAt: iso(command.now + command.expiresInMinutes * 60_000),
      },
    },
  ];
};

const acceptInvitation: Handler<'acceptInvitation'> = (org, command) => {
  const invitation = org.invitations.get(command.invitationId);
  if (!invitation) throw new RuleError(404, 'invitation_not_found', 'there is no such invitation');
  if (invitation.used) throw new RuleError(410, 'invitation_used', 'this invitation was used already');
  if (command.now >= invitation.expiresAt)
    throw new RuleError(410, 'invitation_expired', 'this invitation has expired');
  if (org.members.has(command.by))
    throw new RuleError(409, 'already_member', 'you are a member of this organization already');
  return [
    {
      type: 'member.added',
      data: {
        orgId: org.orgId,
        userId: command.by,
        role: invitation.role,
        addedBy: command.by,
        invitationId: invitation.id,
      },
    },
  ];
};

const addMember: Handler<'addMember'> = (org, command) => {
  authorize(org, command.by, 'member.manage', command.now);
  if (command.role === 'owner') requireOwnerFor(org, command.by);
  if (org.members.has(command.userId))
    throw new RuleError(409, 'already_member', `${command.userId} is a member already`);
  return [
    {
      type: 'member.added',
      data: { orgId: org.orgId, userId: command.userId, role: command.role, addedBy: command.by },
    },
  ];
};

const removeMember: Handler<'removeMember'> = (org, command) => {
  const role = requireMember(org, command.userId);
  // Anyone may leave; removing someone else takes member.manage.
  if (command.userId !== command.by) authorize(org, command.by, 'member.manage', command.now);
  if (role === 'owner') {
    if (command.userId !== command.by) requireOwnerFor(org, command.by);
    if (ownerCount(org) <= 1)
      throw new RuleError(
        409,
        'last_owner',
        'the last owner cannot be removed: make another member owner first',
      );
  }
  const removed: E[] = [
    { type: 'member.removed', data: { orgId: org.orgId, userId: command.userId, removedBy: command.by } },
  ];
  return [...closeElevationsAfter(org, removed, command.by, command.now), ...removed];
};

const changeRole: Handler<'changeRole'> = (org, command) => {
  const from = requireMember(org, command.userId);
  authorize(org, command.by, 'member.manage', command.now);
  if (from === command.role) return [];
  if (from === 'owner' || command.role === 'owner') requireOwnerFor(org, command.by);
  if (from === 'owner' && ownerCount(org) <= 1)
    throw new RuleError(
      409,
      'last_owner',
      'the last owner cannot be demoted: make another member owner first',
    );
  const orgId = org.orgId;
  const events: E[] = [
    {
      type: 'role.changed',
      data: { orgId, userId: command.userId, from, to: command.role, changedBy: command.by },
    },
  ];
  // A reviewer is read-only: its workspace grants end with the change.
  if (command.role === 'reviewer')
    for (const workspaceId of org.grants.get(command.userId)?.keys() ?? [])
      events.push({
        type: 'grant.removed',
        data: { orgId, workspaceId, userId: command.userId, removedBy: command.by },
      });
  return [...closeElevationsAfter(org, events, command.by, command.now), ...events];
};

const addGrant: Handler<'addGrant'> = (org, command) => {
  authorize(org, command.by, 'member.manage', command.now);
  const role = requireMember(org, command.userId);
  if (role === 'reviewer')
    throw new RuleError(
      422,
      'reviewer_read_only',
      'a reviewer is read-only and cannot hold workspace grants',
    );
  if (org.grants.get(command.userId)?.get(command.workspaceId) === command.grant) return [];
  return [
    {
      type: 'grant.added',
      data: {
        orgId: org.orgId,
        workspaceId: command.workspaceId,
        userId: command.userId,
        grant: command.grant,
        grantedBy: command.by,
      },
    },
  ];
};

const removeGrant: Handler<'removeGrant'> = (org, command) => {
  authorize(org, command.by, 'member.manage', command.now);
  if (!org.grants.get(command.userId)?.has(command.workspaceId))
    throw new RuleError(404, 'grant_not_found', `${command.userId} has no grant on ${command.workspaceId}`);
  const removed: E[] = [
    {
      type: 'grant.removed',
      data: {
        orgId: org.orgId,
        workspaceId: command.workspaceId,
        userId: command.userId,
        removedBy: command.by,
      },
    },
  ];
  return [...closeElevationsAfter(org, removed, command.by, command.now), ...removed];
};

const setRootPolicy: Handler<'setRootPolicy'> = (org, command) => {
  authorize(org, command.by, 'policy.change', command.now);
  if (org.rootPolicy === command.mode) return [];
  return [
    {
      type: 'root_policy.changed',
      data: { orgId: org.orgId, from: org.rootPolicy, to: command.mode, changedBy: command.by },
    },
  ];
};

const requestElevation: Handler<'requestElevation'> = (org, command) => {
  authorize(org, command.by, 'root.request', command.now, { workspaceId: command.workspaceId });
  if (org.elevations.has(command.elevationId))
    throw new RuleError(409, 'elevation_exists', 'an elevation request with this id exists already');
  return [
    {
      type: 'elevation.requested',
      data: {
        orgId: org.orgId,
        elevationId: command.elevationId,
        requester: command.by,
        workspaceId: command.workspaceId,
        mode: org.rootPolicy as Exclude<RootPolicyMode, 'disabled'>,
        reason: command.reason,
        windowMinutes: command.windowMinutes,
      },
    },
  ];
};

/** An approver other than the requester decides a pending request (the policy table refuses the rest). */
function decidable(org: OrgState, command: { elevationId: string; by: string; now: number }) {
  const elevation = requireElevation(org, command.elevationId);
  // The policy table refuses the requester (own_request) and anything not pending.
  authorize(org, command.by, 'root.approve', command.now, { elevationId: elevation.id });
  return elevation;
}

const approveElevation: Handler<'approveElevation'> = (org, command) => {
  const elevation = decidable(org, command);
  if (!holdsWorkspaceAccess(org, elevation.requester, elevation.workspaceId))
    throw new RuleError(
      409,
      'requester_without_access',
      'the requester no longer has access to the workspace (left, reviewer, or grant removed)',
    );
  return [
    {
      type: 'elevation.approved',
      data: {
        orgId: org.orgId,
        elevationId: elevation.id,
        approver: command.by,
        startsAt: iso(command.now),
        expiresAt: iso(command.now + elevation.windowMinutes * 60_000),
      },
    },
  ];
};

const denyElevation: Handler<'denyElevation'> = (org, command) => {
  const elevation = decidable(org, command);
  return [
    {
      type: 'elevation.denied',
      data: { orgId: org.orgId, elevationId: elevation.id, approver: command.by, reason: command.reason },
    },
  ];
};

/** The closeout of an approved elevation: `expired` once its window has passed, else `ended_early`. */
function closeElevation(org: OrgState, elevationId: string, now: number, closedBy: string | undefined): E[] {
  const elevation = requireElevation(org, elevationId);
  if (elevation.status !== 'approved')
    throw new RuleError(409, 'elevation_not_active', 'only an approved, open elevation can end');
  const expired = now >= elevation.expiresAt!;
  if (closedBy === undefined && !expired)
    throw new RuleError(409, 'elevation_not_expired', 'the elevation has not reached its expiry');
  const closeout: E = {
    type: 'elevation.closed',
    data: {
      orgId: org.orgId,
      elevationId: elevation.id,
      requester: elevation.requester,
      approver: elevation.approver!,
      workspaceId: elevation.workspaceId,
      startedAt: iso(elevation.startsAt!),
      endedAt: iso(Math.min(now, elevation.expiresAt!)),
      outcome: expired ? 'expired' : 'ended_early',
      closedBy: closedBy ?? SYSTEM_ACTOR,
    },
  };
  if (!expired) return [closeout];
  return [
    {
      type: 'elevation.expired',
      data: { orgId: org.orgId, elevationId: elevation.id, expiredAt: iso(elevation.expiresAt!) },
    },
    closeout,
  ];
}

const endElevation: Handler<'endElevation'> = (org, command) => {
  const elevation = requireElevation(org, command.elevationId);
  // The requester may end its own; anyone else needs member.manage.
  if (elevation.status === 'approved' && command.by !== elevation.requester)
    authorize(org, command.by, 'member.manage', command.now);
  return closeElevation(org, command.elevationId, command.now, command.by);
};

const expireElevation: Handler<'expireElevation'> = (org, command) =>
  closeElevation(org, command.elevationId, command.now, undefined);

const setPolicyPack: Handler<'setPolicyPack'> = (org, command) => {
  authorize(org, command.by, 'policy.change', command.now);
  return [
    {
      type: 'policy_pack.changed',
      data: { orgId: org.orgId, pack: command.pack, extensions: command.extensions, changedBy: command.by },
    },
  ];
};

/** One function per command on an existing organization; adding a command breaks the build here until it has one. */
const HANDLERS: { [T in Exclude<OrgCommand['type'], 'createOrg'>]: Handler<T> } = {
  invite,
  acceptInvitation,
  addMember,
  removeMember,
  changeRole,
  addGrant,
  removeGrant,
  setRootPolicy,
  requestElevation,
  approveElevation,
  denyElevation,
  endElevation,
  expireElevation,
  setPolicyPack,
};

function decide(state: OrgState | null, command: OrgCommand): E[] {
  if (command.type === 'createOrg') return createOrg(state, command);
  const handler = HANDLERS[command.type] as Handler<typeof command.type>;
  return handler(requireOrg(state), command);
}

/** The organization aggregate (stream `org/<orgId>`): membership, grants, root policy, elevations, pack. */
export const organizationDecider: Decider<OrgState | null, OrgCommand, E> = {
  initialState: null,
  decide,
  evolve: (state, event) => applyOrgEvent(state ? cloneOrg(state) : undefined, event),
};

/** The stream of one organization's aggregate. */
export const orgStreamId = AUTHORIZATION_STREAMS.organization;
