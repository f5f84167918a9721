import { z } from 'zod';
import { orgIdSchema, workspaceIdSchema } from '../authorization';
import { defineEvent, DomainEventsOf, EventDefinition } from '../registry';
import { runtimeIdSchema } from '../runtime-scheduler/runtime-scheduler.events';
import { PLACEMENT } from './placement.constants';

const ctx = PLACEMENT.context;
const timestamp = z.iso.datetime({ offset: true });

/** A host (one Docker engine; a VM in production). */
export const hostIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and -');

export const runtimePlaced = defineEvent({
  context: ctx,
  entity: 'runtime',
  verb: 'placed',
  description: "A runtime was placed on a host of its organization (the host's capacity is reserved for it).",
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      runtimeId: runtimeIdSchema,
      hostId: hostIdSchema,
      placedAt: timestamp,
    })
    .strict(),
});

export const runtimeEvicted = defineEvent({
  context: ctx,
  entity: 'runtime',
  verb: 'evicted',
  description:
    'A runtime lost its place: its host became unhealthy, was drained or released. The runtime-scheduler marks it failed or asleep.',
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      runtimeId: runtimeIdSchema,
      hostId: hostIdSchema,
      reason: z.enum(['host_unhealthy', 'host_drained', 'host_released', 'host_removed']),
      evictedAt: timestamp,
    })
    .strict(),
});

/** Every event type the placement context emits (the host life cycle is added with the host registry). */
export const PLACEMENT_EVENTS = [runtimePlaced, runtimeEvicted] as const satisfies readonly EventDefinition[];

/** The placement context's domain events: `{ type, data }`. */
export type PlacementEvent = DomainEventsOf<typeof PLACEMENT_EVENTS>;
