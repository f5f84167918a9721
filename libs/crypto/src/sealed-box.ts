import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  KeyObject,
  randomBytes,
} from 'node:crypto';

/**
 * A sealed box: bytes encrypted to one recipient's X25519 public key, which only the holder of
 * the matching private key can open. The sender makes an ephemeral X25519 key pair for each box;
 * the shared secret of the two goes through HKDF-SHA-256 (salt: both public keys, info: the
 * algorithm name) into a one-time AES-256-GCM key. The caller's associated data (e.g. the id of
 * whom the box is for) is authenticated, not encrypted: a box opens only with the same data.
 */
export const SEALED_BOX_ALG = 'X25519-HKDF-SHA256-A256GCM';

export interface SealedBox {
  alg: typeof SEALED_BOX_ALG;
  /** The sender's ephemeral X25519 public key, 32 raw bytes, base64url. */
  ephemeralPublicKey: string;
  /** 12 random bytes, base64url. */
  iv: string;
  ciphertext: string;
  /** The 16-byte GCM tag, base64url. */
  tag: string;
}

/** Why a box could not be sealed or opened; never says more than that. */
export class SealedBoxError extends Error {
  constructor(
    readonly code: 'invalid_public_key' | 'invalid_box' | 'cannot_open',
    message: string,
  ) {
    super(message);
    this.name = 'SealedBoxError';
  }
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const INFO = Buffer.from(SEALED_BOX_ALG, 'utf8');

/** A recipient's key pair: the public key as 32 raw bytes in base64url (what a sender needs). */
export function generateBoxKeyPair(): { publicKey: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return { publicKey: rawPublicKey(publicKey), privateKey };
}

function rawPublicKey(key: KeyObject): string {
  return key.export({ format: 'jwk' }).x!;
}

function decode(value: unknown, bytes: number | undefined, what: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(value))
    throw new SealedBoxError('invalid_box', `${what} is not base64url`);
  const decoded = Buffer.from(value, 'base64url');
  if (bytes !== undefined && decoded.length !== bytes)
    throw new SealedBoxError('invalid_box', `${what} must be ${bytes} bytes`);
  return decoded;
}

/**
 * An X25519 public key from its 32 raw bytes in base64url. A key of low order (one whose shared
 * secret with any key is all zeros, so nothing secret would protect a box) is refused.
 */
export function importBoxPublicKey(raw: string): KeyObject {
  let bytes: Buffer;
  try {
    bytes = decode(raw, KEY_BYTES, 'the public key');
  } catch {
    throw new SealedBoxError('invalid_public_key', 'the public key must be 32 bytes of X25519, base64url');
  }
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: bytes.toString('base64url') },
    format: 'jwk',
  });
  boxKey(agree(generateKeyPairSync('x25519').privateKey, key), bytes, bytes).fill(0);
  return key;
}

/** The one-time AES key of a box between `ephemeral` and `recipient` public keys. */
function boxKey(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  // An all-zero secret means a low-order public key: nothing secret would protect the box.
  if (shared.every((b) => b === 0))
    throw new SealedBoxError('invalid_public_key', 'the public key is not usable for X25519');
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), INFO, KEY_BYTES));
}

function agree(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  try {
    return diffieHellman({ privateKey, publicKey });
  } catch {
    throw new SealedBoxError('invalid_public_key', 'the public key is not usable for X25519');
  }
}

/** Seals `plaintext` to the recipient's public key (32 raw bytes, base64url), bound to `aad`. */
export function sealBox(plaintext: Uint8Array, recipientPublicKey: string, aad: string): SealedBox {
  const recipient = importBoxPublicKey(recipientPublicKey);
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralRaw = Buffer.from(rawPublicKey(ephemeral.publicKey), 'base64url');
  const key = boxKey(
    agree(ephemeral.privateKey, recipient),
    ephemeralRaw,
    Buffer.from(recipientPublicKey, 'base64url'),
  );
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  key.fill(0);
  return {
    alg: SEALED_BOX_ALG,
    ephemeralPublicKey: ephemeralRaw.toString('base64url'),
    iv: iv.toString('base64url'),
    ciphertext: ciphertext.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

/**
 * Opens a box with the recipient's private key and the same associated data it was sealed with.
 * A wrong key, other associated data or any changed byte fails with `cannot_open`.
 */
export function openBox(box: SealedBox, recipientPrivateKey: KeyObject, aad: string): Buffer {
  if (box?.alg !== SEALED_BOX_ALG)
    throw new SealedBoxError('invalid_box', `the box is not ${SEALED_BOX_ALG}`);
  const ephemeralRaw = decode(box.ephemeralPublicKey, KEY_BYTES, 'ephemeralPublicKey');
  const iv = decode(box.iv, IV_BYTES, 'iv');
  const tag = decode(box.tag, TAG_BYTES, 'tag');
  const ciphertext = decode(box.ciphertext, undefined, 'ciphertext');
  const recipientRaw = Buffer.from(rawPublicKey(createPublicKey(recipientPrivateKey)), 'base64url');
  const key = boxKey(
    agree(recipientPrivateKey, importBoxPublicKey(box.ephemeralPublicKey)),
    ephemeralRaw,
    recipientRaw,
  );
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new SealedBoxError('cannot_open', 'the box does not open with this key and associated data');
  } finally {
    key.fill(0);
  }
}
