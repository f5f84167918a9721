import { z } from 'zod';
import { entityIdSchema, orgIdSchema, userIdSchema, workspaceIdSchema } from '../authorization';
import { defineEvent, DomainEventsOf, EventDefinition } from '../registry';
import { RUNTIME_SCHEDULER } from './runtime-scheduler.constants';

const ctx = RUNTIME_SCHEDULER.context;
const timestamp = z.iso.datetime({ offset: true });

/** A runtime: one awake interval of a workspace (its containers on one host). A new id per wake. */
export const runtimeIdSchema = entityIdSchema;

/** A service of a workspace: what a dev link binds to (`web`, `api`, ...). */
export const serviceNameSchema = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z][a-z0-9-]*$/, 'lowercase letters, digits and -, starting with a letter');

/** A declared secret input: the environment variable its value is injected as. */
export const secretNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Z][A-Z0-9_]*$/, 'upper-case letters, digits and _, starting with a letter');

/** What woke a runtime: a person or tool through the API, or a reviewer's dev link. */
export const WAKE_TRIGGERS = ['api', 'devlink'] as const;
export const wakeTriggerSchema = z.enum(WAKE_TRIGGERS);
export type WakeTrigger = z.infer<typeof wakeTriggerSchema>;

/** What counts as activity for idle sleep. Nothing else keeps a runtime awake. */
export const ACTIVITY_KINDS = ['devlink', 'shell', 'keepalive'] as const;

/**
 * A workspace manifest as stored (palisade.yml after validation, with defaults filled in).
 * It names secret inputs, never values, and holds nothing that could weaken hardening.
 */
export const workspaceManifestSchema = z
  .object({
    services: z
      .array(
        z
          .object({
            name: serviceNameSchema,
            image: z.string().min(1).max(256),
            command: z.array(z.string().max(4096)).max(64).optional(),
            /** The one web port a dev link may reach (absent: no dev link to this service). */
            port: z.int().min(1).max(65535).optional(),
            env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(4096)),
            /** Declared secret inputs, resolved only when the runtime wakes. */
            secrets: z.array(secretNameSchema).max(100),
            limits: z
              .object({
                cpuMillis: z.int().min(10).max(64_000),
                memoryBytes: z.int().min(16 * 1024 * 1024),
                pids: z.int().min(8).max(32_768),
              })
              .strict(),
          })
          .strict(),
      )
      .min(1)
      .max(16),
    volume: z
      .object({ mountPath: z.string().min(2).max(256) })
      .strict()
      .optional(),
    idle: z
      .object({
        timeoutSeconds: z
          .int()
          .min(1)
          .max(7 * 24 * 3600),
        activity: z.array(z.enum(ACTIVITY_KINDS)).min(1),
      })
      .strict(),
    /** A runtime woken by a reviewer's dev link gets secrets only when this is true. */
    devlinkWakeSecrets: z.boolean(),
  })
  .strict();
export type WorkspaceManifest = z.infer<typeof workspaceManifestSchema>;

export const workspaceCreated = defineEvent({
  context: ctx,
  entity: 'workspace',
  verb: 'created',
  description: 'A workspace was created from a manifest (names of secret inputs only, never values).',
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      manifest: workspaceManifestSchema,
      createdBy: userIdSchema,
    })
    .strict(),
});

export const workspaceUpdated = defineEvent({
  context: ctx,
  entity: 'workspace',
  verb: 'updated',
  description: "A workspace's manifest changed; the change applies at the next wake.",
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      manifest: workspaceManifestSchema,
      updatedBy: userIdSchema,
    })
    .strict(),
});

export const workspaceDeleted = defineEvent({
  context: ctx,
  entity: 'workspace',
  verb: 'deleted',
  description: 'A workspace was deleted (it was asleep; its volume is removed).',
  data: z.object({ orgId: orgIdSchema, workspaceId: workspaceIdSchema, deletedBy: userIdSchema }).strict(),
});

export const runtimeWakeRequested = defineEvent({
  context: ctx,
  entity: 'runtime',
  verb: 'wake_requested',
  description:
    'A sleeping workspace was asked to wake; a new runtime id names this awake interval. Concurrent requests collapse into one.',
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      runtimeId: runtimeIdSchema,
      trigger: wakeTriggerSchema,
      /** Who asked: a user id, or `devlink:<linkId>` for a reviewer's link. */
      requestedBy: z.string().min(1).max(160),
      requestedAt: timestamp,
    })
    .strict(),
});

export const runtimeStarted = defineEvent({
  context: ctx,
  entity: 'runtime',
  verb: 'started',
  description: "A runtime's containers run on the host placement chose; metering starts now.",
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      runtimeId: runtimeIdSchema,
      hostId: z.string().min(1).max(64),
      services: z.array(serviceNameSchema).min(1),
      startedAt: timestamp,
      idleDeadline: timestamp,
    })
    .strict(),
});

export const SLEEP_REASONS = ['requested', 'idle', 'policy', 'deleted', 'reconciled'] as const;

export const runtimeSlept = defineEvent({
  context: ctx,
  entity: 'runtime',
  verb: 'slept',
  description: "A runtime's containers were removed (its data volume is kept); metering stops.",
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      runtimeId: runtimeIdSchema,
      reason: z.enum(SLEEP_REASONS),
      detail: z.string().max(500).optional(),
      sleptAt: timestamp,
    })
    .strict(),
});

export const runtimeFailed = defineEvent({
  context: ctx,
  entity: 'runtime',
  verb: 'failed',
  description: 'A runtime could not wake in time, or was lost with its host; the reason is a stable code.',
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      runtimeId: runtimeIdSchema,
      reason: z.string().min(1).max(64),
      detail: z.string().max(500).optional(),
      failedAt: timestamp,
    })
    .strict(),
});

export const usageRecorded = defineEvent({
  context: ctx,
  entity: 'usage',
  verb: 'recorded',
  description:
    'A usage receipt for one awake interval (or part of one): awake seconds, CPU seconds and memory GB-seconds read from the engine.',
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      runtimeId: runtimeIdSchema,
      from: timestamp,
      to: timestamp,
      awakeSeconds: z.number().min(0),
      cpuSeconds: z.number().min(0),
      memoryGbSeconds: z.number().min(0),
    })
    .strict(),
});

export const shellOpened = defineEvent({
  context: ctx,
  entity: 'shell',
  verb: 'opened',
  description: 'Someone opened a shell in a runtime (root only under a live elevation).',
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      runtimeId: runtimeIdSchema,
      shellId: entityIdSchema,
      userId: userIdSchema,
      root: z.boolean(),
      elevationId: entityIdSchema.optional(),
      openedAt: timestamp,
    })
    .strict(),
});

export const shellClosed = defineEvent({
  context: ctx,
  entity: 'shell',
  verb: 'closed',
  description: 'A shell ended: closed by its user, by sleep, or because its elevation ended.',
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      runtimeId: runtimeIdSchema,
      shellId: entityIdSchema,
      reason: z.enum(['closed', 'elevation_ended', 'runtime_slept', 'runtime_failed']),
      closedAt: timestamp,
    })
    .strict(),
});

/** Every event type the runtime-scheduler context emits. */
export const RUNTIME_SCHEDULER_EVENTS = [
  workspaceCreated,
  workspaceUpdated,
  workspaceDeleted,
  runtimeWakeRequested,
  runtimeStarted,
  runtimeSlept,
  runtimeFailed,
  usageRecorded,
  shellOpened,
  shellClosed,
] as const satisfies readonly EventDefinition[];
/** The runtime-scheduler context's domain events: `{ type, data }`. */
export type RuntimeSchedulerEvent = DomainEventsOf<typeof RUNTIME_SCHEDULER_EVENTS>;
