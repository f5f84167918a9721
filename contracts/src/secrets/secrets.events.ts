import { z } from 'zod';
import { orgIdSchema, userIdSchema, workspaceIdSchema } from '../authorization';
import { defineEvent, DomainEventsOf, EventDefinition } from '../registry';
import { runtimeIdSchema, secretNameSchema } from '../runtime-scheduler/runtime-scheduler.events';
import { SECRETS } from './secrets.constants';

const ctx = SECRETS.context;
const timestamp = z.iso.datetime({ offset: true });

/** Where a value lives: `local` (the dev store's envelopes) or `ssm` (AWS SSM SecureString). */
export const secretBackendSchema = z.enum(['local', 'ssm']);

/** Metadata of one secret: never its value. */
const secretMetadata = {
  orgId: orgIdSchema,
  workspaceId: workspaceIdSchema,
  name: secretNameSchema,
  version: z.int().min(1),
  backend: secretBackendSchema,
  changedBy: userIdSchema,
};

export const secretCreated = defineEvent({
  context: ctx,
  entity: 'secret',
  verb: 'created',
  description: 'A secret was set for the first time (name, version and who; never the value).',
  data: z.object(secretMetadata).strict(),
});

export const secretUpdated = defineEvent({
  context: ctx,
  entity: 'secret',
  verb: 'updated',
  description: 'A secret got a new version (name, version and who; never the value).',
  data: z.object(secretMetadata).strict(),
});

export const secretDeleted = defineEvent({
  context: ctx,
  entity: 'secret',
  verb: 'deleted',
  description: 'A secret was deleted; a workspace that still declares it fails to wake with a clear reason.',
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      name: secretNameSchema,
      deletedBy: userIdSchema,
    })
    .strict(),
});

export const inputsResolved = defineEvent({
  context: ctx,
  entity: 'inputs',
  verb: 'resolved',
  description:
    "A waking runtime's declared inputs were resolved and sealed to its key: names and versions only.",
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      runtimeId: runtimeIdSchema,
      inputs: z.array(z.object({ name: secretNameSchema, version: z.int().min(1) }).strict()).max(100),
      resolvedAt: timestamp,
    })
    .strict(),
});

/**
 * Why a resolve was refused (stable codes; the runtime-scheduler fails the wake with them).
 * Every refusal is recorded as `inputs.refused`, so it lands in the audit log.
 */
export const RESOLVE_REFUSALS = [
  /** No runtime.wake_requested with this runtime id was seen. */
  'runtime_unknown',
  /** The runtime started, slept or failed: secrets are resolved only while it wakes. */
  'runtime_not_waking',
  /** The runtime belongs to another organization than the request names. */
  'runtime_other_organization',
  /** The runtime belongs to another workspace than the request names. */
  'runtime_other_workspace',
  /** An input the workspace's manifest (as of the wake) does not declare. */
  'undeclared_input',
  /** A reviewer's dev link woke the runtime and the workspace does not allow secrets then. */
  'devlink_wake_without_secrets',
  /** A declared input has no value: it was never set, or it was deleted. */
  'secret_missing',
  /** The backend (SSM or the local store) could not return a value. */
  'backend_failed',
] as const;
export const resolveRefusalSchema = z.enum(RESOLVE_REFUSALS);
export type ResolveRefusal = z.infer<typeof resolveRefusalSchema>;

export const inputsRefused = defineEvent({
  context: ctx,
  entity: 'inputs',
  verb: 'refused',
  description:
    'A resolve for a runtime was refused (not waking, another workspace, an undeclared or missing input): names and the reason only.',
  data: z
    .object({
      orgId: orgIdSchema,
      workspaceId: workspaceIdSchema,
      runtimeId: runtimeIdSchema,
      inputs: z.array(secretNameSchema).max(100),
      reason: resolveRefusalSchema,
      /** The inputs the reason is about (undeclared or missing ones), when it is about some. */
      offending: z.array(secretNameSchema).max(100).optional(),
      refusedAt: timestamp,
    })
    .strict(),
});

export const secretKeyRotated = defineEvent({
  context: ctx,
  entity: 'secret_key',
  verb: 'rotated',
  description: "The local store's master key was rotated; every data key was re-wrapped (no value changed).",
  data: z
    .object({
      keyId: z.string().min(1).max(64),
      previousKeyId: z.string().min(1).max(64).optional(),
      rewrapped: z.int().min(0),
      rotatedAt: timestamp,
    })
    .strict(),
});

/** Every event type the secrets context emits. */
export const SECRETS_EVENTS = [
  secretCreated,
  secretUpdated,
  secretDeleted,
  inputsResolved,
  inputsRefused,
  secretKeyRotated,
] as const satisfies readonly EventDefinition[];

/** The secrets context's domain events: `{ type, data }`. */
export type SecretsEvent = DomainEventsOf<typeof SECRETS_EVENTS>;
