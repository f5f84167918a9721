import { z } from 'zod';
import { orgIdSchema, workspaceIdSchema } from '../authorization';
import { defineEvent, DomainEventsOf, EventDefinition } from '../registry';
import { runtimeIdSchema } from '../runtime-scheduler/runtime-scheduler.events';
import { PLACEMENT } from './placement.constants';
import { hostCapacitySchema, hostLabelsSchema, hostProviderSchema } from './placement.hosts';

const ctx = PLACEMENT.context;
const timestamp = z.iso.datetime({ offset: true });
/** Who did it: `user:<id>`, `token:<id>`, `demo:<role>` or `system`. */
const actorSchema = z.string().min(1).max(160);
const detailSchema = z.string().max(500);

/** A host (one Docker engine; a VM in production). */
export const hostIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and -');

/** Docker object ids (or names, for volumes): what a wipe compares against. */
const objectIds = z.array(z.string().min(1).max(255)).max(5_000);

/**
 * What an engine held when it was registered (the platform's own base images, the engine's
 * default networks, or what the owner of a shared development engine keeps there). A wipe
 * removes everything else and checks that nothing else is left.
 */
export const engineBaselineSchema = z
  .object({ containers: objectIds, volumes: objectIds, networks: objectIds, images: objectIds })
  .strict();
export type EngineBaseline = z.infer<typeof engineBaselineSchema>;

export const hostRegistered = defineEvent({
  context: ctx,
  entity: 'host',
  verb: 'registered',
  description:
    'A host joined the free pool: its engine answered, and what it held then (its baseline) was recorded. It belongs to no organization yet.',
  data: z
    .object({
      hostId: hostIdSchema,
      engineUrl: z.string().min(1).max(1024),
      provider: hostProviderSchema,
      capacity: hostCapacitySchema,
      labels: hostLabelsSchema,
      baseline: engineBaselineSchema,
      registeredBy: actorSchema,
      registeredAt: timestamp,
    })
    .strict(),
});

export const hostAssigned = defineEvent({
  context: ctx,
  entity: 'host',
  verb: 'assigned',
  description:
    "A free host was given to an organization on that organization's first placement that needed it; it stays the organization's until it is released and wiped.",
  data: z.object({ hostId: hostIdSchema, orgId: orgIdSchema, assignedAt: timestamp }).strict(),
});

export const hostReleased = defineEvent({
  context: ctx,
  entity: 'host',
  verb: 'released',
  description:
    'An operator released a host from its organization (or asked again to wipe a quarantined one); its runtimes were evicted and the wipe starts. Nothing is placed on it until it is wiped.',
  data: z
    .object({ hostId: hostIdSchema, orgId: orgIdSchema, releasedBy: actorSchema, releasedAt: timestamp })
    .strict(),
});

export const hostWiped = defineEvent({
  context: ctx,
  entity: 'host',
  verb: 'wiped',
  description:
    "Everything the organization's runtimes left on the engine was removed and the engine was verified to hold nothing beyond its baseline; the host is back in the free pool.",
  data: z
    .object({
      hostId: hostIdSchema,
      orgId: orgIdSchema,
      removed: z
        .object({
          containers: z.int().min(0),
          volumes: z.int().min(0),
          networks: z.int().min(0),
          images: z.int().min(0),
        })
        .strict(),
      wipedAt: timestamp,
    })
    .strict(),
});

/** Why a host is kept out of the pool after a release. */
export const QUARANTINE_REASONS = ['engine_unreachable', 'wipe_failed', 'engine_not_empty'] as const;

export const hostQuarantined = defineEvent({
  context: ctx,
  entity: 'host',
  verb: 'quarantined',
  description:
    "A wipe failed or left something behind: the host stays out of the free pool, still counted as the organization's, until an operator releases it again (another wipe) or removes it.",
  data: z
    .object({
      hostId: hostIdSchema,
      orgId: orgIdSchema,
      reason: z.enum(QUARANTINE_REASONS),
      detail: detailSchema,
      quarantinedAt: timestamp,
    })
    .strict(),
});

export const hostUnhealthy = defineEvent({
  context: ctx,
  entity: 'host',
  verb: 'unhealthy',
  description:
    "A host's engine stopped answering its pings: its runtimes are evicted (runtime.evicted, host_unhealthy) and nothing is placed on it until it answers again.",
  data: z
    .object({
      hostId: hostIdSchema,
      orgId: orgIdSchema.optional(),
      detail: detailSchema,
      since: timestamp,
    })
    .strict(),
});

export const hostHealthy = defineEvent({
  context: ctx,
  entity: 'host',
  verb: 'healthy',
  description: "An unhealthy host's engine answers again; placements may use it again.",
  data: z.object({ hostId: hostIdSchema, orgId: orgIdSchema.optional(), at: timestamp }).strict(),
});

export const hostDraining = defineEvent({
  context: ctx,
  entity: 'host',
  verb: 'draining',
  description:
    'An operator drained a host: nothing new is placed on it; its runtimes run until they sleep. A release and wipe returns it to the pool.',
  data: z
    .object({ hostId: hostIdSchema, orgId: orgIdSchema.optional(), drainedBy: actorSchema, at: timestamp })
    .strict(),
});

export const hostRemoved = defineEvent({
  context: ctx,
  entity: 'host',
  verb: 'removed',
  description:
    'A host that belonged to no organization (free or quarantined) left Palisade; a host of the local provider has its engine stopped.',
  data: z.object({ hostId: hostIdSchema, removedBy: actorSchema, removedAt: timestamp }).strict(),
});

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
      /** What is reserved on the host (always written; optional for events written before it was). */
      resources: z
        .object({ cpuMillis: z.int().min(1), memoryBytes: z.int().min(1) })
        .strict()
        .optional(),
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

export const runtimeUnplaced = defineEvent({
  context: ctx,
  entity: 'runtime',
  verb: 'unplaced',
  description:
    "A runtime gave its place back (the runtime-scheduler asked, or the runtime slept or failed): the host's capacity is free again. The host stays its organization's.",
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      runtimeId: runtimeIdSchema,
      hostId: hostIdSchema,
      reason: z.enum(['unplaced', 'slept', 'failed']),
      unplacedAt: timestamp,
    })
    .strict(),
});

/** The stable reasons a placement is refused (PlaceReply.reason and placement.failed). */
export const PLACEMENT_FAILURE_REASONS = [
  'unknown_organization',
  'no_matching_host',
  'too_large',
  'no_capacity',
  'provider_failed',
  'contention',
  'runtime_exists',
] as const;
export type PlacementFailureReason = (typeof PLACEMENT_FAILURE_REASONS)[number];

export const placementFailed = defineEvent({
  context: ctx,
  entity: 'placement',
  verb: 'failed',
  description:
    'A placement was refused; the reason is a stable code, the message says what would help, retryAfterMs when asking again later may succeed.',
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      runtimeId: runtimeIdSchema,
      reason: z.enum(PLACEMENT_FAILURE_REASONS),
      message: detailSchema,
      retryAfterMs: z.int().min(0).optional(),
      failedAt: timestamp,
    })
    .strict(),
});

/** What the drift detector found on an engine. */
export const VIOLATION_KINDS = ['foreign_organization', 'two_organizations', 'unlabeled'] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

export const placementViolation = defineEvent({
  context: ctx,
  entity: 'placement',
  verb: 'violation',
  description:
    'The drift detector found an engine holding something of an organization the host is not assigned to, of two organizations, or containers without Palisade labels that were not there at registration.',
  data: z
    .object({
      hostId: hostIdSchema,
      /** The organization the host is assigned to (absent: free). */
      assignedOrgId: orgIdSchema.optional(),
      kind: z.enum(VIOLATION_KINDS),
      /** The organizations whose objects were found (from their palisade.org labels). */
      orgIds: z.array(orgIdSchema).max(50),
      objects: z
        .array(
          z
            .object({
              kind: z.enum(['container', 'volume']),
              id: z.string().min(1).max(255),
              name: z.string().max(255).optional(),
              orgId: orgIdSchema.optional(),
            })
            .strict(),
        )
        .max(50),
      detectedAt: timestamp,
    })
    .strict(),
});

/** Every event type the placement context emits. */
export const PLACEMENT_EVENTS = [
  hostRegistered,
  hostAssigned,
  hostReleased,
  hostWiped,
  hostQuarantined,
  hostUnhealthy,
  hostHealthy,
  hostDraining,
  hostRemoved,
  runtimePlaced,
  runtimeEvicted,
  runtimeUnplaced,
  placementFailed,
  placementViolation,
] as const satisfies readonly EventDefinition[];

/** The placement context's domain events: `{ type, data }`. */
export type PlacementEvent = DomainEventsOf<typeof PLACEMENT_EVENTS>;
