import type {
  Allowlists,
  AuthorizationEvent,
  AuthzAction,
  OrgRole,
  PolicyPackName,
  RootPolicyMode,
  WorkspaceGrant,
} from '@palisade/contracts';
import type { Decider } from '@palisade/persistence';
import { check, holdsWorkspaceAccess } from './check';
import { applyOrgEvent, cloneOrg, OrgState, ownerCount } from './org.state';

/** A rule of the domain said no: `code` is stable, `status` the HTTP status it maps to. */
export class AuthzRuleError extends Error {
  constructor(
    readonly status: 403 | 404 | 409 | 410 | 422,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AuthzRuleError';
  }
}

/** Commands on one organization's aggregate. `by` is the acting user; `now` is ms since the epoch. */
export type OrgCommand =
  | { kind: 'createOrg'; orgId: string; name: string; by: string }
  | { kind: 'invite'; invitationId: string; role: OrgRole; expiresInMinutes: number; by: string; now: number }
  | { kind: 'acceptInvitation'; invitationId: string; by: string; now: number }
  | { kind: 'addMember'; userId: string; role: OrgRole; by: string; now: number }
  | { kind: 'removeMember'; userId: string; by: string; now: number }
  | { kind: 'changeRole'; userId: string; role: OrgRole; by: string; now: number }
  | { kind: 'addGrant'; userId: string; workspaceId: string; grant: WorkspaceGrant; by: string; now: number }
  | { kind: 'removeGrant'; userId: string; workspaceId: string; by: string; now: number }
  | { kind: 'setRootPolicy'; mode: RootPolicyMode; by: string; now: number }
  | {
      kind: 'requestElevation';
      elevationId: string;
      workspaceId: string;
      reason: string;
      windowMinutes: number;
      by: string;
      now: number;
    }
  | { kind: 'approveElevation'; elevationId: string; by: string; now: number }
  | { kind: 'denyElevation'; elevationId: string; reason?: string; by: string; now: number }
  | { kind: 'endElevation'; elevationId: string; by: string; now: number }
  /** The system's sweep: closes an approved elevation whose window has passed. */
  | { kind: 'expireElevation'; elevationId: string; now: number }
  | { kind: 'setPolicyPack'; pack: PolicyPackName; extensions: Allowlists; by: string; now: number };

export const SYSTEM_ACTOR = 'system';
const MAX_INVITATION_MINUTES = 14 * 24 * 60;

type E = AuthorizationEvent;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function requireOrg(state: OrgState | null): OrgState {
  if (!state) throw new AuthzRuleError(404, 'org_not_found', 'there is no such organization');
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
    throw new AuthzRuleError(403, decision.reason, `${action} is not allowed here (${decision.reason})`);
}

function requireMember(org: OrgState, userId: string): OrgRole {
  const role = org.members.get(userId);
  if (!role) throw new AuthzRuleError(404, 'member_not_found', `${userId} is not a member of ${org.orgId}`);
  return role;
}

/** Only an owner makes, unmakes or removes an owner. */
function requireOwnerFor(org: OrgState, by: string): void {
  if (org.members.get(by) !== 'owner')
    throw new AuthzRuleError(
      403,
      'owner_required',
      'only an owner can grant, change or remove the owner role',
    );
}

function requireElevation(org: OrgState, elevationId: string) {
  const elevation = org.elevations.get(elevationId);
  if (!elevation) throw new AuthzRuleError(404, 'elevation_not_found', 'there is no such elevation request');
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

function decide(state: OrgState | null, command: OrgCommand): E[] {
  if (command.kind === 'createOrg') {
    if (state) throw new AuthzRuleError(409, 'org_exists', `organization ${command.orgId} exists already`);
    return [{ type: 'org.created', data: { orgId: command.orgId, name: command.name, owner: command.by } }];
  }
  const org = requireOrg(state);
  const orgId = org.orgId;
  switch (command.kind) {
    case 'invite': {
      authorize(org, command.by, 'member.manage', command.now);
      if (command.role === 'owner') requireOwnerFor(org, command.by);
      if (command.expiresInMinutes < 5 || command.expiresInMinutes > MAX_INVITATION_MINUTES)
        throw new AuthzRuleError(422, 'invalid_expiry', 'an invitation expires in 5 minutes to 14 days');
      return [
        {
          type: 'member.invited',
          data: {
            orgId,
            invitationId: command.invitationId,
            role: command.role,
            invitedBy: command.by,
            expiresAt: iso(command.now + command.expiresInMinutes * 60_000),
          },
        },
      ];
    }
    case 'acceptInvitation': {
      const invitation = org.invitations.get(command.invitationId);
      if (!invitation) throw new AuthzRuleError(404, 'invitation_not_found', 'there is no such invitation');
      if (invitation.used)
        throw new AuthzRuleError(410, 'invitation_used', 'this invitation was used already');
      if (command.now >= invitation.expiresAt)
        throw new AuthzRuleError(410, 'invitation_expired', 'this invitation has expired');
      if (org.members.has(command.by))
        throw new AuthzRuleError(409, 'already_member', 'you are a member of this organization already');
      return [
        {
          type: 'member.added',
          data: {
            orgId,
            userId: command.by,
            role: invitation.role,
            addedBy: command.by,
            invitationId: invitation.id,
          },
        },
      ];
    }
    case 'addMember': {
      authorize(org, command.by, 'member.manage', command.now);
      if (command.role === 'owner') requireOwnerFor(org, command.by);
      if (org.members.has(command.userId))
        throw new AuthzRuleError(409, 'already_member', `${command.userId} is a member already`);
      return [
        {
          type: 'member.added',
          data: { orgId, userId: command.userId, role: command.role, addedBy: command.by },
        },
      ];
    }
    case 'removeMember': {
      const role = requireMember(org, command.userId);
      // Anyone may leave; removing someone else takes member.manage.
      if (command.userId !== command.by) authorize(org, command.by, 'member.manage', command.now);
      if (role === 'owner') {
        if (command.userId !== command.by) requireOwnerFor(org, command.by);
        if (ownerCount(org) <= 1)
          throw new AuthzRuleError(
            409,
            'last_owner',
            'the last owner cannot be removed: make another member owner first',
          );
      }
      const removed: E[] = [
        { type: 'member.removed', data: { orgId, userId: command.userId, removedBy: command.by } },
      ];
      return [...closeElevationsAfter(org, removed, command.by, command.now), ...removed];
    }
    case 'changeRole': {
      const from = requireMember(org, command.userId);
      authorize(org, command.by, 'member.manage', command.now);
      if (from === command.role) return [];
      if (from === 'owner' || command.role === 'owner') requireOwnerFor(org, command.by);
      if (from === 'owner' && ownerCount(org) <= 1)
        throw new AuthzRuleError(
          409,
          'last_owner',
          'the last owner cannot be demoted: make another member owner first',
        );
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
    }
    case 'addGrant': {
      authorize(org, command.by, 'member.manage', command.now);
      const role = requireMember(org, command.userId);
      if (role === 'reviewer')
        throw new AuthzRuleError(
          422,
          'reviewer_read_only',
          'a reviewer is read-only and cannot hold workspace grants',
        );
      if (org.grants.get(command.userId)?.get(command.workspaceId) === command.grant) return [];
      return [
        {
          type: 'grant.added',
          data: {
            orgId,
            workspaceId: command.workspaceId,
            userId: command.userId,
            grant: command.grant,
            grantedBy: command.by,
          },
        },
      ];
    }
    case 'removeGrant': {
      authorize(org, command.by, 'member.manage', command.now);
      if (!org.grants.get(command.userId)?.has(command.workspaceId))
        throw new AuthzRuleError(
          404,
          'grant_not_found',
          `${command.userId} has no grant on ${command.workspaceId}`,
        );
      const removed: E[] = [
        {
          type: 'grant.removed',
          data: { orgId, workspaceId: command.workspaceId, userId: command.userId, removedBy: command.by },
        },
      ];
      return [...closeElevationsAfter(org, removed, command.by, command.now), ...removed];
    }
    case 'setRootPolicy': {
      authorize(org, command.by, 'policy.change', command.now);
      if (org.rootPolicy === command.mode) return [];
      return [
        {
          type: 'root_policy.changed',
          data: { orgId, from: org.rootPolicy, to: command.mode, changedBy: command.by },
        },
      ];
    }
    case 'requestElevation': {
      authorize(org, command.by, 'root.request', command.now, { workspaceId: command.workspaceId });
      if (org.elevations.has(command.elevationId))
        throw new AuthzRuleError(409, 'elevation_exists', 'an elevation request with this id exists already');
      return [
        {
          type: 'elevation.requested',
          data: {
            orgId,
            elevationId: command.elevationId,
            requester: command.by,
            workspaceId: command.workspaceId,
            mode: org.rootPolicy as Exclude<RootPolicyMode, 'disabled'>,
            reason: command.reason,
            windowMinutes: command.windowMinutes,
          },
        },
      ];
    }
    case 'approveElevation':
    case 'denyElevation': {
      const elevation = requireElevation(org, command.elevationId);
      // The policy table refuses the requester (own_request) and anything not pending.
      authorize(org, command.by, 'root.approve', command.now, { elevationId: elevation.id });
      if (command.kind === 'denyElevation')
        return [
          {
            type: 'elevation.denied',
            data: { orgId, elevationId: elevation.id, approver: command.by, reason: command.reason },
          },
        ];
      if (!holdsWorkspaceAccess(org, elevation.requester, elevation.workspaceId))
        throw new AuthzRuleError(
          409,
          'requester_without_access',
          'the requester no longer has access to the workspace (left, reviewer, or grant removed)',
        );
      return [
        {
          type: 'elevation.approved',
          data: {
            orgId,
            elevationId: elevation.id,
            approver: command.by,
            startsAt: iso(command.now),
            expiresAt: iso(command.now + elevation.windowMinutes * 60_000),
          },
        },
      ];
    }
    case 'endElevation':
    case 'expireElevation': {
      const elevation = requireElevation(org, command.elevationId);
      if (elevation.status !== 'approved')
        throw new AuthzRuleError(409, 'elevation_not_active', 'only an approved, open elevation can end');
      const expired = command.now >= elevation.expiresAt!;
      let closedBy = SYSTEM_ACTOR;
      if (command.kind === 'endElevation') {
        if (command.by !== elevation.requester) authorize(org, command.by, 'member.manage', command.now);
        closedBy = command.by;
      } else if (!expired) {
        throw new AuthzRuleError(409, 'elevation_not_expired', 'the elevation has not reached its expiry');
      }
      const endedAt = iso(Math.min(command.now, elevation.expiresAt!));
      const closeout: E = {
        type: 'elevation.closed',
        data: {
          orgId,
          elevationId: elevation.id,
          requester: elevation.requester,
          approver: elevation.approver!,
          workspaceId: elevation.workspaceId,
          startedAt: iso(elevation.startsAt!),
          endedAt,
          outcome: expired ? 'expired' : 'ended_early',
          closedBy,
        },
      };
      return expired
        ? [
            {
              type: 'elevation.expired',
              data: { orgId, elevationId: elevation.id, expiredAt: iso(elevation.expiresAt!) },
            },
            closeout,
          ]
        : [closeout];
    }
    case 'setPolicyPack': {
      authorize(org, command.by, 'policy.change', command.now);
      return [
        {
          type: 'policy_pack.changed',
          data: { orgId, pack: command.pack, extensions: command.extensions, changedBy: command.by },
        },
      ];
    }
    default: {
      const unhandled: never = command;
      throw new Error(`unhandled command ${(unhandled as { kind: string }).kind}`);
    }
  }
}

/** The organization aggregate (stream `org/<orgId>`): membership, grants, root policy, elevations, pack. */
export const organizationDecider: Decider<OrgState | null, OrgCommand, E> = {
  initialState: null,
  decide,
  evolve: (state, event) => applyOrgEvent(state ? cloneOrg(state) : undefined, event),
};

export const orgStreamId = (orgId: string) => `org/${orgId}`;
