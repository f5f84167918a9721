import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** Which value an envelope holds: part of both ciphers' associated data, so rows cannot be swapped. */
export interface ValueAddress {
  orgId: string;
  workspaceId: string;
  name: string;
  version: number;
}

/** A value as the local store keeps it: AES-256-GCM under a data key, the data key under a master key. */
export interface Envelope {
  keyId: string;
  /** iv (12) ‖ encrypted data key (32) ‖ tag (16). */
  wrappedKey: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

const IV = 12;
const TAG = 16;
const KEY = 32;

function address(a: ValueAddress): string {
  return `${a.orgId}\n${a.workspaceId}\n${a.name}\n${a.version}`;
}

function gcmSeal(key: Buffer, plaintext: Buffer, aad: string) {
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

function gcmOpen(key: Buffer, iv: Buffer, ciphertext: Buffer, tag: Buffer, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

const wrapAad = (keyId: string, a: ValueAddress) => `palisade data key\n${keyId}\n${address(a)}`;
const valueAad = (a: ValueAddress) => `palisade secret value\n${address(a)}`;

function wrap(masterKey: Buffer, keyId: string, dataKey: Buffer, a: ValueAddress): Buffer {
  const sealed = gcmSeal(masterKey, dataKey, wrapAad(keyId, a));
  return Buffer.concat([sealed.iv, sealed.ciphertext, sealed.tag]);
}

function unwrap(masterKey: Buffer, keyId: string, wrapped: Buffer, a: ValueAddress): Buffer {
  if (wrapped.length !== IV + KEY + TAG) throw new Error('a wrapped data key has the wrong length');
  return gcmOpen(
    masterKey,
    wrapped.subarray(0, IV),
    wrapped.subarray(IV, IV + KEY),
    wrapped.subarray(IV + KEY),
    wrapAad(keyId, a),
  );
}

/** Encrypts a value under a fresh data key, wrapped by the master key `keyId`. */
export function sealValue(masterKey: Buffer, keyId: string, a: ValueAddress, value: string): Envelope {
  const dataKey = randomBytes(KEY);
  const plaintext = Buffer.from(value, 'utf8');
  try {
    const sealed = gcmSeal(dataKey, plaintext, valueAad(a));
    return { keyId, wrappedKey: wrap(masterKey, keyId, dataKey, a), ...sealed };
  } finally {
    dataKey.fill(0);
    plaintext.fill(0);
  }
}

/** Decrypts an envelope with the master key it names (throws when anything was changed). */
export function openValue(masterKey: Buffer, a: ValueAddress, envelope: Envelope): string {
  const dataKey = unwrap(masterKey, envelope.keyId, envelope.wrappedKey, a);
  try {
    return gcmOpen(dataKey, envelope.iv, envelope.ciphertext, envelope.tag, valueAad(a)).toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}

/** The data key re-wrapped under another master key; the value's ciphertext stays as it is. */
export function rewrapKey(
  from: { key: Buffer; keyId: string },
  to: { key: Buffer; keyId: string },
  a: ValueAddress,
  wrapped: Buffer,
): Buffer {
  const dataKey = unwrap(from.key, from.keyId, wrapped, a);
  try {
    return wrap(to.key, to.keyId, dataKey, a);
  } finally {
    dataKey.fill(0);
  }
}

/** A public fingerprint of a master key: tells a wrong key file apart without revealing the key. */
export function keyCheck(masterKey: Buffer): Buffer {
  return createHmac('sha256', masterKey).update('palisade local master key check').digest();
}
