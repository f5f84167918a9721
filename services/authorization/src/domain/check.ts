import { ORG_ROLES, WORKSPACE_GRANTS } from '@palisade/contracts';
import type { AuthzCheck, AuthzDecision, OrgRole, WorkspaceGrant } from '@palisade/contracts';
import { OrgState } from './org.state';
import { GRANT_BIT, policyRule, ROLE_BIT } from './policy-table';

const decisions = new Map<string, AuthzDecision>();

/** Decisions are shared frozen values: a check allocates nothing. */
function decision(allowed: boolean, reason: string): AuthzDecision {
  const key = `${allowed}:${reason}`;
  let found = decisions.get(key);
  if (!found) decisions.set(key, (found = Object.freeze({ allowed, reason })));
  return found;
}

export const deny = (reason: string) => decision(false, reason);
const allow = (reason: string) => decision(true, reason);

/** The stable deny reasons (API clients and tests match on them). */
export const DENY = {
  unknownAction: deny('unknown_action'),
  devSession: deny('dev_session_has_no_rights'),
  unknownOrganization: deny('unknown_organization'),
  tokenOtherOrganization: deny('token_other_organization'),
  tokenReadOnly: deny('token_read_only'),
  notAMember: deny('not_a_member'),
  workspaceRequired: deny('workspace_required'),
  rootPolicyDisabled: deny('root_policy_disabled'),
  noActiveElevation: deny('no_active_elevation'),
  unknownElevation: deny('unknown_elevation'),
  ownRequest: deny('own_request'),
  elevationNotPending: deny('elevation_not_pending'),
  insufficientRole: deny('insufficient_role'),
} as const;

const ALLOW_ROLE = Object.fromEntries(ORG_ROLES.map((r) => [r, allow(`role:${r}`)])) as Record<
  OrgRole,
  AuthzDecision
>;
const ALLOW_GRANT = Object.fromEntries(WORKSPACE_GRANTS.map((g) => [g, allow(`grant:${g}`)])) as Record<
  WorkspaceGrant,
  AuthzDecision
>;
const ALLOW_ELEVATION = allow('elevation');

/**
 * The one decision function: may `subject` do `action` on `resource`, given what authorization
 * knows about the resource's organization (`org`, undefined when there is none) at `now` (ms)?
 * Deny by default; every answer has a reason.
 */
export function check(org: OrgState | undefined, request: AuthzCheck, now: number): AuthzDecision {
  const rule = policyRule(request.action);
  if (!rule) return DENY.unknownAction;
  const { subject, resource } = request;
  if (subject.kind === 'dev_session') return DENY.devSession;
  if (!org || org.orgId !== resource.orgId) return DENY.unknownOrganization;
  if (subject.kind === 'api_token') {
    if (subject.orgId !== resource.orgId) return DENY.tokenOtherOrganization;
    if (rule.write && subject.access === 'read') return DENY.tokenReadOnly;
  }
  const role = org.members.get(subject.userId);
  if (!role) return DENY.notAMember;
  const workspaceId = resource.workspaceId;
  if (rule.workspace && !workspaceId) return DENY.workspaceRequired;
  if (rule.rootPolicy && org.rootPolicy === 'disabled') return DENY.rootPolicyDisabled;
  if (rule.elevation) {
    // Root extends access the subject still has on the workspace; it never outlives it.
    if (!holdsWorkspaceAccess(org, subject.userId, workspaceId!)) return DENY.insufficientRole;
    for (const elevation of org.elevations.values()) {
      if (
        elevation.status === 'approved' &&
        elevation.requester === subject.userId &&
        elevation.workspaceId === workspaceId &&
        elevation.startsAt! <= now &&
        now < elevation.expiresAt!
      )
        return ALLOW_ELEVATION;
    }
    return DENY.noActiveElevation;
  }
  if (request.action === 'root.approve' && resource.elevationId !== undefined) {
    const elevation = org.elevations.get(resource.elevationId);
    if (!elevation) return DENY.unknownElevation;
    if (elevation.requester === subject.userId) return DENY.ownRequest;
    if (elevation.status !== 'pending') return DENY.elevationNotPending;
  }
  if (rule.roleMask & ROLE_BIT[role]) return ALLOW_ROLE[role];
  if (workspaceId && role !== 'reviewer') {
    const grant = org.grants.get(subject.userId)?.get(workspaceId);
    if (grant && rule.grantMask & GRANT_BIT[grant]) return ALLOW_GRANT[grant];
  }
  return DENY.insufficientRole;
}

/**
 * What root on a workspace builds on: owner or admin of the organization, or a maintainer or
 * developer grant on that workspace (never a reviewer: read-only).
 */
export function holdsWorkspaceAccess(org: OrgState, userId: string, workspaceId: string): boolean {
  const role = org.members.get(userId);
  if (role === 'owner' || role === 'admin') return true;
  if (role !== 'member') return false;
  return org.grants.get(userId)?.has(workspaceId) ?? false;
}
