import { z } from 'zod';
import { orgIdSchema, workspaceIdSchema } from '../authorization';
import { runtimeIdSchema } from '../runtime-scheduler/runtime-scheduler.events';
import { hostIdSchema } from './placement.events';

/** Request/reply names served by placement: `rpc.placement.<name>`. */
export const PLACEMENT_RPC = {
  /** body: PlaceRequest → PlaceReply (asked by the runtime-scheduler when a workspace wakes). */
  place: 'place',
  /** body: { runtimeId } → { released: boolean } (the runtime's containers are gone). */
  unplace: 'unplace',
} as const;

/** A label constraint: every key must match the host's label exactly. */
export const hostLabelsSchema = z.record(
  z.string().regex(/^[a-z0-9][a-z0-9._/-]{0,62}$/),
  z.string().regex(/^[A-Za-z0-9._-]{0,63}$/),
);

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
      /** A stable code: no_capacity, no_matching_host, provider_failed, unknown_organization, ... */
      reason: z.string().min(1).max(64),
      message: z.string().max(500),
      retryAfterMs: z.int().min(0).optional(),
    })
    .strict(),
]);
export type PlaceReply = z.infer<typeof placeReplySchema>;
