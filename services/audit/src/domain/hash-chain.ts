import { hash } from 'node:crypto';

/**
 * The audit log's hash chain: each entry's checksum is SHA-256 of its canonical JSON, and its
 * hash is SHA-256(prev_hash || checksum), where prev_hash is the previous entry's hash (32 zero
 * bytes before the first). Changing, removing or reordering any entry changes every later hash.
 */

export const HASH_BYTES = 32;
export const GENESIS_HASH: Buffer = Buffer.alloc(HASH_BYTES);

/** SHA-256 of the canonical JSON text (UTF-8). */
export function entryChecksum(canonical: string): Buffer {
  // One-shot crypto.hash: about twice as fast as createHash for inputs this small.
  return hash('sha256', canonical, 'buffer');
}

// The 64-byte input of chainHash, reused: hashing is synchronous, and not allocating is faster.
const scratch = Buffer.alloc(2 * HASH_BYTES);

/** SHA-256(prev_hash || checksum). */
export function chainHash(prevHash: Uint8Array, checksum: Uint8Array): Buffer {
  if (prevHash.length !== HASH_BYTES || checksum.length !== HASH_BYTES)
    return hash('sha256', Buffer.concat([prevHash, checksum]), 'buffer');
  scratch.set(prevHash, 0);
  scratch.set(checksum, HASH_BYTES);
  return hash('sha256', scratch, 'buffer');
}

/**
 * A SHA-256 digest as the verifier holds it: a string of its 32 bytes, one character per byte
 * (latin1). Hashing to it, comparing it and writing it into the next hash's input cost less than
 * hex (half the characters, no digit pairs to convert) or a Buffer per hash (garbage to collect;
 * docs/audit.md has the measured share).
 */
export type Digest = string & { readonly [digestBrand]: true };
declare const digestBrand: unique symbol;

/** The Digest of 64 lowercase hex digits; '' (which equals no digest) when it is not that. */
export function digestFromHex(hex: string): Digest {
  const bytes = Buffer.from(hex, 'hex');
  return (
    bytes.length === HASH_BYTES && bytes.toString('hex') === hex ? bytes.toString('latin1') : ''
  ) as Digest;
}

export function digestToHex(digest: Digest): string {
  return Buffer.from(digest, 'latin1').toString('hex');
}

export const GENESIS_DIGEST = GENESIS_HASH.toString('latin1') as Digest;

/** SHA-256 of the canonical JSON text (a string, hashed as UTF-8, or its UTF-8 bytes), as a Digest. */
export function entryChecksumDigest(canonical: string | Uint8Array): Digest {
  return hash('sha256', canonical, 'binary') as Digest;
}

/**
 * SHA-256(prev_hash || checksum) as a Digest; undefined when prev_hash is not 32 bytes (checksum
 * is trusted: entryChecksumDigest made it).
 */
export function chainHashDigest(prevHash: Digest, checksum: Digest): Digest | undefined {
  if (prevHash.length !== HASH_BYTES) return undefined;
  scratch.write(prevHash, 0, HASH_BYTES, 'latin1');
  scratch.write(checksum, HASH_BYTES, HASH_BYTES, 'latin1');
  return hash('sha256', scratch, 'binary') as Digest;
}

/** What the chain derives for one entry. */
export interface ChainLink {
  checksum: Buffer;
  prevHash: Buffer;
  hash: Buffer;
}

/** Links canonical texts onto a chain whose last hash is `prevHash`. */
export function linkEntries(prevHash: Buffer, canonicals: readonly string[]): ChainLink[] {
  const links: ChainLink[] = [];
  let prev = prevHash;
  for (const canonical of canonicals) {
    const checksum = entryChecksum(canonical);
    const hash = chainHash(prev, checksum);
    links.push({ checksum, prevHash: prev, hash });
    prev = hash;
  }
  return links;
}
