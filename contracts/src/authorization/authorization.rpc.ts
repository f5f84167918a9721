import { z } from 'zod';
import { entityIdSchema, orgIdSchema, userIdSchema, workspaceIdSchema } from './authorization.events';

/**
 * The actions of the policy table. A check names one of these; any other name is denied with
 * the reason `unknown_action` (deny by default), so a typo never grants anything.
 */
export const AUTHZ_ACTIONS = [
  'org.read',
  'member.manage',
  'workspace.create',
  'workspace.open_shell',
  'workspace.wake',
  'workspace.sleep',
  'workspace.root_shell',
  'devlink.issue',
  'devlink.revoke',
  'secret.write',
  'secret.read_metadata',
  'root.request',
  'root.approve',
  'policy.change',
  'audit.read',
  'usage.read',
  /** Register, drain, release and remove hosts: checked on the reserved `system` organization. */
  'host.manage',
] as const;
export type AuthzAction = (typeof AUTHZ_ACTIONS)[number];

/**
 * Who asks. `user`: a person with an access token; `api_token`: a tool with an identity-issued
 * API token limited to one organization and read or write; `dev_session`: a reviewer holding a
 * signed dev link, which carries no organization rights and never elevation.
 */
export const authzSubjectSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('user'), userId: userIdSchema }).strict(),
  z
    .object({
      kind: z.literal('api_token'),
      userId: userIdSchema,
      orgId: orgIdSchema,
      access: z.enum(['read', 'write']),
    })
    .strict(),
  z.object({ kind: z.literal('dev_session'), linkId: z.string().min(1).max(128) }).strict(),
]);
export type AuthzSubject = z.infer<typeof authzSubjectSchema>;

export const authzResourceSchema = z
  .object({
    orgId: orgIdSchema,
    workspaceId: workspaceIdSchema.optional(),
    /** For root.approve: the request being decided (nobody approves their own). */
    elevationId: entityIdSchema.optional(),
  })
  .strict();
export type AuthzResource = z.infer<typeof authzResourceSchema>;

export const authzCheckSchema = z
  .object({
    subject: authzSubjectSchema,
    action: z.string().min(1).max(64),
    resource: authzResourceSchema,
  })
  .strict();
export type AuthzCheck = z.infer<typeof authzCheckSchema>;

export const MAX_AUTHZ_BATCH = 100;

/**
 * A check request over NATS or HTTP: a batch of checks. `atLeast` is a consistency token: the
 * highest authorization event sequence the caller has seen; the answer waits until the
 * decisions reflect at least that event (a removal is never answered from before it).
 */
export const authzCheckRequestSchema = z
  .object({
    checks: z.array(authzCheckSchema).min(1).max(MAX_AUTHZ_BATCH),
    atLeast: z.int().min(0).optional(),
  })
  .strict();
export type AuthzCheckRequest = z.infer<typeof authzCheckRequestSchema>;

export interface AuthzCheckReply {
  decisions: AuthzDecision[];
  /** The authorization event sequence the decisions reflect. */
  sequence: number;
}

export interface AuthzDecision {
  readonly allowed: boolean;
  /** A stable code: why it was allowed (the role or grant) or denied. */
  readonly reason: string;
}

/** Request/reply names served by authorization: `rpc.authorization.<name>`. */
export const AUTHZ_RPC = {
  /** body: AuthzCheckRequest → AuthzCheckReply, or { error: { code, message } } */
  check: 'check',
  /** body: { orgId } → EffectivePolicyPack */
  policyPack: 'policy-pack',
} as const;

/** What a runtime may use in an organization: its pack's allowlists plus the admin's extensions. */
export interface EffectivePolicyPack {
  orgId: string;
  pack: string;
  allowlists: { images: string[]; networks: string[]; tools: string[] };
}
