import { z } from 'zod';
import { defineEvent, EventDefinition } from '../registry';
import { AUDIT } from './audit.constants';

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** The statement a checkpoint signs; see `checkpointSigningInput` in the audit service. */
export const checkpointSignedData = z
  .object({
    treeSize: z.int().min(1).describe('number of audit log entries the Merkle tree covers'),
    rootHash: z.string().regex(HEX_SHA256).describe('RFC 6962 Merkle tree head over the entry hashes (hex)'),
    lastEntryHash: z
      .string()
      .regex(HEX_SHA256)
      .describe('hash-chain value of entry number treeSize, the head of the chain (hex)'),
    issuedAt: z.iso.datetime({ offset: true }).describe('when the checkpoint was signed'),
    keyId: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .describe('first 8 bytes (hex) of SHA-256 of the raw Ed25519 public key'),
    signature: z
      .string()
      .regex(/^[A-Za-z0-9_-]{86}$/)
      .describe('Ed25519 signature (base64url) over the checkpoint statement'),
  })
  .strict();
export type CheckpointSignedData = z.infer<typeof checkpointSignedData>;

export const checkpointSigned = defineEvent({
  context: AUDIT.context,
  entity: 'checkpoint',
  verb: 'signed',
  description:
    'The audit service signed a checkpoint of its hash-chained log: tree size, Merkle root and chain head, with Ed25519.',
  data: checkpointSignedData,
});

/** Every event type the audit context emits. */
export const AUDIT_EVENTS: readonly EventDefinition[] = [checkpointSigned];
