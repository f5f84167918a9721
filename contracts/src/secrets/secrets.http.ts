import { z } from 'zod';
import { userIdSchema } from '../authorization';
import { secretNameSchema } from '../runtime-scheduler/runtime-scheduler.events';
import { secretBackendSchema } from './secrets.events';

/**
 * The longest value, in bytes of UTF-8: the limit of SSM's Standard tier, so that every value
 * either backend accepts the other accepts too.
 */
export const SECRET_VALUE_MAX_BYTES = 4096;

/**
 * `PUT /v1/secrets/{orgId}/{workspaceId}/{NAME}`: the value, as a JSON string.
 * It must be valid UTF-8 of 1..SECRET_VALUE_MAX_BYTES bytes without NUL (it becomes an
 * environment variable) and without U+FFFD (what invalid UTF-8 turns into on the way).
 */
export const setSecretBodySchema = z.object({ value: z.string() }).strict();

/** What `PUT` answers: the new version (never the value). */
export const setSecretReplySchema = z
  .object({ name: secretNameSchema, version: z.int().min(1), created: z.boolean() })
  .strict();
export type SetSecretReply = z.infer<typeof setSecretReplySchema>;

/**
 * Whether the backend holds the version Palisade recorded: `ok`, `missing` (the value is gone
 * from the backend) or `changed_outside` (someone wrote the parameter without Palisade).
 */
export const SECRET_BACKEND_STATES = ['ok', 'missing', 'changed_outside'] as const;

/** One entry of `GET /v1/secrets/{orgId}/{workspaceId}`: metadata only. */
export const secretListItemSchema = z
  .object({
    name: secretNameSchema,
    version: z.int().min(1),
    backend: secretBackendSchema,
    changedBy: userIdSchema,
    changedAt: z.iso.datetime({ offset: true }),
    createdAt: z.iso.datetime({ offset: true }),
    backendState: z.enum(SECRET_BACKEND_STATES),
  })
  .strict();
export type SecretListItem = z.infer<typeof secretListItemSchema>;

export const secretListReplySchema = z.object({ secrets: z.array(secretListItemSchema) }).strict();
export type SecretListReply = z.infer<typeof secretListReplySchema>;
