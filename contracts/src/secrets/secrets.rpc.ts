import { z } from 'zod';
import { orgIdSchema, workspaceIdSchema } from '../authorization';
import { runtimeIdSchema, secretNameSchema } from '../runtime-scheduler/runtime-scheduler.events';

/** Request/reply names served by secrets: `rpc.secrets.<name>`. */
export const SECRETS_RPC = {
  /**
   * body: ResolveRequest → ResolveReply (asked by the runtime-scheduler while a runtime wakes),
   * or `{ error: { code, message } }` with code one of RESOLVE_REFUSALS (recorded as
   * inputs.refused), `invalid_resolve` (the request does not parse) or `view_behind` (secrets has
   * not seen the wake at `atLeast` yet: ask again).
   */
  resolve: 'resolve',
} as const;

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'base64url');

/**
 * Resolve a waking runtime's declared inputs. `publicKey` is the runtime's ephemeral X25519 key
 * (32 raw bytes, base64url); the values come back sealed to it. `atLeast` is the
 * runtime-scheduler's producer sequence of the wake (the answer waits until secrets has seen it).
 */
export const resolveRequestSchema = z
  .object({
    orgId: orgIdSchema,
    workspaceId: workspaceIdSchema,
    runtimeId: runtimeIdSchema,
    inputs: z.array(secretNameSchema).max(100),
    publicKey: base64url.length(43),
    atLeast: z.int().min(0).optional(),
  })
  .strict();
export type ResolveRequest = z.infer<typeof resolveRequestSchema>;

/**
 * The sealed reply: X25519(ephemeral, runtime key) → HKDF-SHA-256 → AES-256-GCM, with the
 * runtime id as associated data. The plaintext is the JSON `{ "<NAME>": "<value>", ... }`.
 */
export const sealedBoxSchema = z
  .object({
    alg: z.literal('X25519-HKDF-SHA256-A256GCM'),
    ephemeralPublicKey: base64url,
    iv: base64url,
    ciphertext: base64url,
    tag: base64url,
  })
  .strict();
export type SealedBox = z.infer<typeof sealedBoxSchema>;

export const resolveReplySchema = z
  .object({
    sealed: sealedBoxSchema,
    versions: z.array(z.object({ name: secretNameSchema, version: z.int().min(1) }).strict()),
  })
  .strict();
export type ResolveReply = z.infer<typeof resolveReplySchema>;
