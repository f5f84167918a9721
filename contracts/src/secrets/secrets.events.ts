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
  secretKeyRotated,
] as const satisfies readonly EventDefinition[];

/** The secrets context's domain events: `{ type, data }`. */
export type SecretsEvent = DomainEventsOf<typeof SECRETS_EVENTS>;
