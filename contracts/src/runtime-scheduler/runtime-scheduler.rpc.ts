import { z } from 'zod';
import { orgIdSchema, workspaceIdSchema } from '../authorization';
import { serviceNameSchema } from './runtime-scheduler.events';

/** Request/reply names served by the runtime-scheduler: `rpc.runtime-scheduler.<name>`. */
export const RUNTIME_SCHEDULER_RPC = {
  /** body: RuntimeEndpointRequest → RuntimeEndpointReply (asked by the dev-link gateway per session). */
  endpoint: 'endpoint',
  /** body: RuntimeActivity, published without a reply, at most once a second per workspace. */
  activity: 'activity',
} as const;

/**
 * Where the gateway reaches one service's web port. `wake: true` wakes a sleeping workspace
 * (trigger `devlink`, requestedBy `devlink:<linkId>`).
 */
export const runtimeEndpointRequestSchema = z
  .object({
    orgId: orgIdSchema,
    workspaceId: workspaceIdSchema,
    service: serviceNameSchema,
    wake: z.boolean(),
    linkId: z.string().min(1).max(128),
  })
  .strict();
export type RuntimeEndpointRequest = z.infer<typeof runtimeEndpointRequestSchema>;

/** An address the gateway can open a byte stream to (loopback forwarder in dev, a host address in production). */
export const runtimeEndpointSchema = z.discriminatedUnion('kind', [
  z
    .object({ kind: z.literal('tcp'), host: z.string().min(1).max(255), port: z.int().min(1).max(65535) })
    .strict(),
  z.object({ kind: z.literal('unix'), path: z.string().min(1).max(1024) }).strict(),
]);
export type RuntimeEndpoint = z.infer<typeof runtimeEndpointSchema>;

export const runtimeEndpointReplySchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('awake'), runtimeId: z.string(), endpoint: runtimeEndpointSchema }).strict(),
  z
    .object({
      state: z.enum(['asleep', 'waking', 'failed']),
      retryAfterMs: z.int().min(0),
      reason: z.string().max(200).optional(),
    })
    .strict(),
]);
export type RuntimeEndpointReply = z.infer<typeof runtimeEndpointReplySchema>;

/** Traffic through the gateway that counts as activity for idle sleep. */
export const runtimeActivitySchema = z
  .object({
    orgId: orgIdSchema,
    workspaceId: workspaceIdSchema,
    kind: z.literal('devlink'),
    at: z.iso.datetime({ offset: true }),
  })
  .strict();
export type RuntimeActivity = z.infer<typeof runtimeActivitySchema>;
