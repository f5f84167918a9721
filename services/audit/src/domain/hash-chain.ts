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
 * The same two hashes over hex text, as the verifier holds them: no Buffer per hash (allocating
 * them was a fifth of verification's time in garbage collection).
 */
export function entryChecksumHex(canonical: string): string {
  return hash('sha256', canonical, 'hex');
}

/**
 * SHA-256(prev_hash || checksum) of two 64-digit hex hashes, as lowercase hex; undefined when
 * prev_hash is not 64 hex digits (checksumHex is trusted: entryChecksumHex made it).
 */
export function chainHashHex(prevHashHex: string, checksumHex: string): string | undefined {
  // write stops at the first pair that is not hex: fewer bytes than 32 means it is not a hash.
  if (
    prevHashHex.length !== 2 * HASH_BYTES ||
    scratch.write(prevHashHex, 0, HASH_BYTES, 'hex') !== HASH_BYTES
  )
    return undefined;
  scratch.write(checksumHex, HASH_BYTES, HASH_BYTES, 'hex');
  return hash('sha256', scratch, 'hex');
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
