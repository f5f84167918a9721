import { createHash, createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import type { CheckpointSignedData } from '@palisade/contracts';

/**
 * Signed checkpoints: Ed25519 over a fixed text statement of the tree size, the Merkle root, the
 * chain head and the time. Anyone with the public key checks them; the key id names the key.
 */

export type SignedCheckpoint = CheckpointSignedData;

export const CHECKPOINT_STATEMENT_VERSION = 'palisade-audit-checkpoint/v1';

/** The exact bytes a checkpoint's signature covers. */
export function checkpointStatement(checkpoint: Omit<SignedCheckpoint, 'signature'>): Buffer {
  return Buffer.from(
    [
      CHECKPOINT_STATEMENT_VERSION,
      `tree_size=${checkpoint.treeSize}`,
      `root_hash=${checkpoint.rootHash}`,
      `last_entry_hash=${checkpoint.lastEntryHash}`,
      `issued_at=${checkpoint.issuedAt}`,
      `key_id=${checkpoint.keyId}`,
      '',
    ].join('\n'),
    'utf8',
  );
}

/** Raw 32-byte Ed25519 public key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x)
    throw new SigningKeyError('the key is not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

/** First 8 bytes (hex) of SHA-256 of the raw public key. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16);
}

export class SigningKeyError extends Error {
  readonly code = 'invalid_signing_key';
}

// PKCS#8 prefix of an Ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
// SubjectPublicKeyInfo prefix of an Ed25519 public key; the 32 raw bytes follow.
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** An Ed25519 key from PEM text, or from the base64/base64url of its 32 bytes (seed or raw public key). */
function parseEd25519(text: string, kind: 'private' | 'public'): KeyObject {
  const trimmed = text.trim();
  const what =
    kind === 'private'
      ? 'the audit signing key must be an Ed25519 private key: PKCS#8 PEM, or the base64 of its 32-byte seed'
      : 'the audit public key must be an Ed25519 public key: SPKI PEM, or the base64 of its 32 raw bytes';
  let key: KeyObject;
  try {
    if (trimmed.startsWith('-----BEGIN'))
      key = kind === 'private' ? createPrivateKey(trimmed) : createPublicKey(trimmed);
    else {
      const raw = Buffer.from(trimmed, 'base64');
      if (raw.length !== 32) throw new Error('not 32 bytes');
      key =
        kind === 'private'
          ? createPrivateKey({
              key: Buffer.concat([PKCS8_ED25519_PREFIX, raw]),
              format: 'der',
              type: 'pkcs8',
            })
          : createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
    }
  } catch {
    throw new SigningKeyError(what);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SigningKeyError(what);
  return key;
}

/** A signing key from PKCS#8 PEM text or the base64/base64url 32-byte seed. */
export function parsePrivateKey(text: string): KeyObject {
  return parseEd25519(text, 'private');
}

/** A verification key from SPKI PEM text or the base64/base64url raw 32-byte key. */
export function parsePublicKey(text: string): KeyObject {
  return parseEd25519(text, 'public');
}

export function publicKeyPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }).toString();
}

/** Signs a checkpoint for the tree of `treeSize` entries. */
export function signCheckpoint(
  privateKey: KeyObject,
  fields: { treeSize: number; rootHash: Buffer; lastEntryHash: Buffer; issuedAt: Date },
): SignedCheckpoint {
  const unsigned = {
    treeSize: fields.treeSize,
    rootHash: fields.rootHash.toString('hex'),
    lastEntryHash: fields.lastEntryHash.toString('hex'),
    issuedAt: fields.issuedAt.toISOString(),
    keyId: keyIdOf(createPublicKey(privateKey)),
  };
  const signature = sign(null, checkpointStatement(unsigned), privateKey).toString('base64url');
  return { ...unsigned, signature };
}

/** Whether the signature is valid under the key the checkpoint names (keys by key id). */
export function checkpointSignatureValid(
  checkpoint: SignedCheckpoint,
  keys: ReadonlyMap<string, KeyObject>,
): 'valid' | 'unknown_key' | 'invalid' {
  const key = keys.get(checkpoint.keyId);
  if (!key) return 'unknown_key';
  try {
    const { signature, ...unsigned } = checkpoint;
    const bytes = Buffer.from(signature, 'base64url');
    // Only the canonical encoding: base64url's last character has spare bits that decoders
    // ignore, so another string could carry the same signature (a tampered export that verifies).
    if (bytes.length !== 64 || bytes.toString('base64url') !== signature) return 'invalid';
    return verify(null, checkpointStatement(unsigned), key, bytes) ? 'valid' : 'invalid';
  } catch {
    return 'invalid';
  }
}

/** Public keys by key id. */
export function keyRing(keys: readonly KeyObject[]): Map<string, KeyObject> {
  return new Map(keys.map((key) => [keyIdOf(key), key]));
}
