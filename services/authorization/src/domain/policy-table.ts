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
  // Hosts belong to the platform: asked on { orgId: SYSTEM_ORG }, whose owners and admins operate it.
  'host.manage': { roles: ADMINS, grants: [], workspace: false, write: true },
} satisfies Record<AuthzAction, PolicyRule>);

/** A rule with its role and grant sets as bit masks: what `check` evaluates. */
export interface CompiledRule extends PolicyRule {
  readonly roleMask: number;
  readonly grantMask: number;
}

export const ROLE_BIT: Readonly<Record<OrgRole, number>> = { owner: 1, admin: 2, member: 4, reviewer: 8 };
export const GRANT_BIT: Readonly<Record<WorkspaceGrant, number>> = { maintainer: 1, developer: 2 };

const COMPILED = new Map<string, CompiledRule>(
  Object.entries(POLICY_TABLE).map(([action, rule]) => [
    action,
    {
      ...rule,
      roleMask: rule.roles.reduce((mask, role) => mask | ROLE_BIT[role], 0),
      grantMask: rule.grants.reduce((mask, grant) => mask | GRANT_BIT[grant], 0),
    },
  ]),
);

/** The rule of an action; undefined for anything not in the table (`__proto__` included). */
export function policyRule(action: string): CompiledRule | undefined {
  return COMPILED.get(action);
}
