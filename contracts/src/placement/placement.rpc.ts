import { z } from 'zod';
import { orgIdSchema, workspaceIdSchema } from '../authorization';
import { runtimeIdSchema } from '../runtime-scheduler/runtime-scheduler.events';
import { hostIdSchema, PLACEMENT_FAILURE_REASONS } from './placement.events';
import { hostLabelsSchema } from './placement.hosts';

export { hostLabelsSchema };

/** Request/reply names served by placement: `rpc.placement.<name>`. */
export const PLACEMENT_RPC = {
  /** body: PlaceRequest → PlaceReply (asked by the runtime-scheduler when a workspace wakes). */
  place: 'place',
  /** body: { runtimeId } → { released: boolean } (the runtime's containers are gone). */
  unplace: 'unplace',
} as const;

export const placeRequestSchema = z
  .object({
    orgId: orgIdSchema,
    workspaceId: workspaceIdSchema,
    runtimeId: runtimeIdSchema,
    resources: z.object({ cpuMillis: z.int().min(1), memoryBytes: z.int().min(1) }).strict(),
    labels: hostLabelsSchema.optional(),
  })
  .strict();
export type PlaceRequest = z.infer<typeof placeRequestSchema>;

/** How the runtime-scheduler reaches the chosen host's Docker engine. */
export const engineRefSchema = z
  .object({
    /** `unix:///path/docker.sock` or `tcp+tls://host:port` (client certificates configured per host by reference). */
    url: z.string().min(1).max(1024),
  })
  .strict();

export const placeReplySchema = z.discriminatedUnion('placed', [
  z.object({ placed: z.literal(true), hostId: hostIdSchema, engine: engineRefSchema }).strict(),
  z
    .object({
      placed: z.literal(false),
      /** A stable code: one of PLACEMENT_FAILURE_REASONS, or invalid_request for a malformed request. */
      reason: z.string().min(1).max(64),
      message: z.string().max(500),
      retryAfterMs: z.int().min(0).optional(),
    })
    .strict(),
]);
export type PlaceReply = z.infer<typeof placeReplySchema>;

/** Every reason a PlaceReply may carry: the placement failures and a malformed request. */
export const PLACE_REPLY_REASONS = [...PLACEMENT_FAILURE_REASONS, 'invalid_request'] as const;

export const unplaceRequestSchema = z.object({ runtimeId: runtimeIdSchema }).strict();
export type UnplaceRequest = z.infer<typeof unplaceRequestSchema>;

/** `released: false` when the runtime held no place (already given back, evicted, or never placed). */
export const unplaceReplySchema = z.object({ released: z.boolean() }).strict();
export type UnplaceReply = z.infer<typeof unplaceReplySchema>;
