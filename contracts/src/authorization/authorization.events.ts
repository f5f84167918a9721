import { z } from 'zod';
import { ORG_TOKEN } from '../naming';
import { defineEvent, DomainEventsOf, EventDefinition } from '../registry';
import { AUTHORIZATION } from './authorization.constants';

/** A Palisade user id: the `sub` identity puts in its access tokens. */
export const userIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:@|-]+$/, 'letters, digits and _ . : @ | -');
export const orgIdSchema = z.string().regex(ORG_TOKEN, '1..64 letters, digits, _ or -');
export const workspaceIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and -');
export const entityIdSchema = z.uuid();
const timestamp = z.iso.datetime({ offset: true });

/** Organization roles. reviewer is read-only. */
export const ORG_ROLES = ['owner', 'admin', 'member', 'reviewer'] as const;
export const orgRoleSchema = z.enum(ORG_ROLES);
export type OrgRole = z.infer<typeof orgRoleSchema>;

/** Per-workspace grants, on top of an organization role. */
export const WORKSPACE_GRANTS = ['maintainer', 'developer'] as const;
export const workspaceGrantSchema = z.enum(WORKSPACE_GRANTS);
export type WorkspaceGrant = z.infer<typeof workspaceGrantSchema>;

/** disabled (the default): nobody gets root; break_glass / workspace_elevation: by approved request. */
export const ROOT_POLICY_MODES = ['disabled', 'break_glass', 'workspace_elevation'] as const;
export const rootPolicyModeSchema = z.enum(ROOT_POLICY_MODES);
export type RootPolicyMode = z.infer<typeof rootPolicyModeSchema>;

export const POLICY_PACKS = ['allow_all', 'hipaa', 'gdpr'] as const;
export const policyPackNameSchema = z.enum(POLICY_PACKS);
export type PolicyPackName = z.infer<typeof policyPackNameSchema>;

/** An allowlist entry: an image reference, a network name or a tool name (no wildcards but a trailing `*`). */
export const allowlistEntrySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]*\*?$/, 'an image, network or tool name, optionally ending in *');
export const allowlistsSchema = z
  .object({
    images: z.array(allowlistEntrySchema).max(200),
    networks: z.array(allowlistEntrySchema).max(200),
    tools: z.array(allowlistEntrySchema).max(200),
  })
  .strict();
export type Allowlists = z.infer<typeof allowlistsSchema>;

const ctx = AUTHORIZATION.context;

export const orgCreated = defineEvent({
  context: ctx,
  entity: 'org',
  verb: 'created',
  description: 'An organization was created; its creator is its first owner.',
  data: z.object({ orgId: orgIdSchema, name: z.string().min(1).max(120), owner: userIdSchema }).strict(),
});

export const memberInvited = defineEvent({
  context: ctx,
  entity: 'member',
  verb: 'invited',
  description:
    'Someone was invited to join with a role. The invitation token itself is never in the event, only that one exists.',
  data: z
    .object({
      orgId: orgIdSchema,
      invitationId: entityIdSchema,
      role: orgRoleSchema,
      invitedBy: userIdSchema,
      expiresAt: timestamp,
    })
    .strict(),
});

export const memberAdded = defineEvent({
  context: ctx,
  entity: 'member',
  verb: 'added',
  description: 'A user became a member of the organization with a role.',
  data: z
    .object({
      orgId: orgIdSchema,
      userId: userIdSchema,
      role: orgRoleSchema,
      addedBy: userIdSchema,
      invitationId: entityIdSchema.optional(),
    })
    .strict(),
});

export const memberRemoved = defineEvent({
  context: ctx,
  entity: 'member',
  verb: 'removed',
  description:
    'A user stopped being a member: every role, grant and elevation it had in the organization ends.',
  data: z.object({ orgId: orgIdSchema, userId: userIdSchema, removedBy: userIdSchema }).strict(),
});

export const roleChanged = defineEvent({
  context: ctx,
  entity: 'role',
  verb: 'changed',
  description: "A member's organization role changed.",
  data: z
    .object({
      orgId: orgIdSchema,
      userId: userIdSchema,
      from: orgRoleSchema,
      to: orgRoleSchema,
      changedBy: userIdSchema,
    })
    .strict(),
});

export const grantAdded = defineEvent({
  context: ctx,
  entity: 'grant',
  verb: 'added',
  description: 'A member got (or changed) a grant on one workspace.',
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      userId: userIdSchema,
      grant: workspaceGrantSchema,
      grantedBy: userIdSchema,
    })
    .strict(),
});

export const grantRemoved = defineEvent({
  context: ctx,
  entity: 'grant',
  verb: 'removed',
  description: "A member's grant on one workspace was removed.",
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      userId: userIdSchema,
      removedBy: userIdSchema,
    })
    .strict(),
});

export const rootPolicyChanged = defineEvent({
  context: ctx,
  entity: 'root_policy',
  verb: 'changed',
  description:
    "The organization's root policy changed. Leaving a mode does not end approved elevations early.",
  data: z
    .object({
      orgId: orgIdSchema,
      from: rootPolicyModeSchema,
      to: rootPolicyModeSchema,
      changedBy: userIdSchema,
    })
    .strict(),
});

export const elevationRequested = defineEvent({
  context: ctx,
  entity: 'elevation',
  verb: 'requested',
  description: 'A member asked for root on one workspace, with a reason and the window it wants.',
  data: z
    .object({
      orgId: orgIdSchema,
      elevationId: entityIdSchema,
      requester: userIdSchema,
      workspaceId: workspaceIdSchema,
      mode: rootPolicyModeSchema.exclude(['disabled']),
      reason: z.string().min(10).max(500),
      windowMinutes: z.int().min(5).max(480),
    })
    .strict(),
});

export const elevationApproved = defineEvent({
  context: ctx,
  entity: 'elevation',
  verb: 'approved',
  description: 'An admin other than the requester approved an elevation; it grants root until expiresAt.',
  data: z
    .object({
      orgId: orgIdSchema,
      elevationId: entityIdSchema,
      approver: userIdSchema,
      startsAt: timestamp,
      expiresAt: timestamp,
    })
    .strict(),
});

export const elevationDenied = defineEvent({
  context: ctx,
  entity: 'elevation',
  verb: 'denied',
  description: 'An admin other than the requester denied an elevation request.',
  data: z
    .object({
      orgId: orgIdSchema,
      elevationId: entityIdSchema,
      approver: userIdSchema,
      reason: z.string().max(500).optional(),
    })
    .strict(),
});

export const elevationExpired = defineEvent({
  context: ctx,
  entity: 'elevation',
  verb: 'expired',
  description: 'An approved elevation reached its expiry (it already granted nothing from expiresAt on).',
  data: z.object({ orgId: orgIdSchema, elevationId: entityIdSchema, expiredAt: timestamp }).strict(),
});

export const elevationClosed = defineEvent({
  context: ctx,
  entity: 'elevation',
  verb: 'closed',
  description:
    'The closeout of an approved elevation: who asked, who approved, where, from when to when. The workspace is back to policy.',
  data: z
    .object({
      orgId: orgIdSchema,
      elevationId: entityIdSchema,
      requester: userIdSchema,
      approver: userIdSchema,
      workspaceId: workspaceIdSchema,
      startedAt: timestamp,
      endedAt: timestamp,
      outcome: z.enum(['expired', 'ended_early', 'member_removed', 'access_removed']),
      closedBy: userIdSchema,
    })
    .strict(),
});

export const policyPackChanged = defineEvent({
  context: ctx,
  entity: 'policy_pack',
  verb: 'changed',
  description:
    'The policy pack of the organization, or the extensions an admin added to it (PALISADE_ALLOWED_IMAGES / NETWORKS / TOOLS), changed.',
  data: z
    .object({
      orgId: orgIdSchema,
      pack: policyPackNameSchema,
      extensions: allowlistsSchema,
      changedBy: userIdSchema,
    })
    .strict(),
});

/** Every event type the authorization context emits. */
export const AUTHORIZATION_EVENTS = [
  orgCreated,
  memberInvited,
  memberAdded,
  memberRemoved,
  roleChanged,
  grantAdded,
  grantRemoved,
  rootPolicyChanged,
  elevationRequested,
  elevationApproved,
  elevationDenied,
  elevationExpired,
  elevationClosed,
  policyPackChanged,
] as const satisfies readonly EventDefinition[];

/** The authorization context's domain events: `{ type, data }`. */
export type AuthorizationEvent = DomainEventsOf<typeof AUTHORIZATION_EVENTS>;
