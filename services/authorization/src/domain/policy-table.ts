import type { AuthzAction, OrgRole, WorkspaceGrant } from '@palisade/contracts';

export interface PolicyRule {
  /** Organization roles that allow the action (anywhere in the organization). */
  readonly roles: readonly OrgRole[];
  /** Workspace grants that allow it on that workspace (reviewers never use grants). */
  readonly grants: readonly WorkspaceGrant[];
  /** The resource must name a workspace. */
  readonly workspace: boolean;
  /** Changes something: denied to read-only API tokens. */
  readonly write: boolean;
  /** Also needs the organization's root policy to be other than disabled. */
  readonly rootPolicy?: true;
  /** Allowed only by an approved, unexpired elevation of this subject on this workspace. */
  readonly elevation?: true;
}

const ADMINS: readonly OrgRole[] = ['owner', 'admin'];
const BOTH_GRANTS: readonly WorkspaceGrant[] = ['maintainer', 'developer'];

/**
 * The policy table: every action Palisade checks, and what allows it. Anything not in this
 * table is denied. Reviewers are read-only; a dev session (a signed link) gets none of these.
 */
export const POLICY_TABLE: Readonly<Record<AuthzAction, PolicyRule>> = Object.freeze({
  'org.read': { roles: ['owner', 'admin', 'member', 'reviewer'], grants: [], workspace: false, write: false },
  'member.manage': { roles: ADMINS, grants: [], workspace: false, write: true },
  'workspace.create': { roles: ['owner', 'admin', 'member'], grants: [], workspace: false, write: true },
  'workspace.open_shell': { roles: ADMINS, grants: BOTH_GRANTS, workspace: true, write: true },
  'workspace.wake': { roles: ADMINS, grants: BOTH_GRANTS, workspace: true, write: true },
  'workspace.sleep': { roles: ADMINS, grants: BOTH_GRANTS, workspace: true, write: true },
  'workspace.root_shell': { roles: [], grants: [], workspace: true, write: true, elevation: true },
  'devlink.issue': { roles: ADMINS, grants: BOTH_GRANTS, workspace: true, write: true },
  'devlink.revoke': { roles: ADMINS, grants: ['maintainer'], workspace: true, write: true },
  'secret.write': { roles: ADMINS, grants: ['maintainer'], workspace: true, write: true },
  'secret.read_metadata': { roles: ADMINS, grants: BOTH_GRANTS, workspace: true, write: false },
  'root.request': { roles: ADMINS, grants: BOTH_GRANTS, workspace: true, write: true, rootPolicy: true },
  'root.approve': { roles: ADMINS, grants: [], workspace: false, write: true, rootPolicy: true },
  'policy.change': { roles: ADMINS, grants: [], workspace: false, write: true },
  'audit.read': { roles: ['owner', 'admin', 'reviewer'], grants: [], workspace: false, write: false },
  'usage.read': { roles: ['owner', 'admin', 'reviewer'], grants: [], workspace: false, write: false },
} satisfies Record<AuthzAction, PolicyRule>);

export function policyRule(action: string): PolicyRule | undefined {
  return Object.prototype.hasOwnProperty.call(POLICY_TABLE, action)
    ? POLICY_TABLE[action as AuthzAction]
    : undefined;
}
