import { createHash, hash } from 'node:crypto';
import type { Digest } from './hash-chain';

/**
 * Merkle tree hashing of RFC 6962 / RFC 9162 (section 2.1): leaves are SHA-256(0x00 || data),
 * interior nodes SHA-256(0x01 || left || right), and a tree of n leaves splits at the largest
 * power of two below n. Our leaves' data are the audit entries' chain hashes.
 *
 * Perfect subtrees are addressed as (level, index): the node covering leaves
 * [index * 2^level, (index + 1) * 2^level). Once complete, such a node never changes, so the
 * service stores them as entries are appended and answers proofs for any tree size from them.
 */

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

// One scratch buffer for the 33- and 65-byte hash inputs: hashing is synchronous, and not
// allocating per hash makes tree building about twice as fast.
const scratch = Buffer.alloc(65);

export function leafHash(data: Uint8Array): Buffer {
  if (data.length !== 32) return hash('sha256', Buffer.concat([LEAF_PREFIX, data]), 'buffer');
  scratch[0] = 0x00;
  scratch.set(data, 1);
  return hash('sha256', scratch.subarray(0, 33), 'buffer');
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== 32 || right.length !== 32)
    return hash('sha256', Buffer.concat([NODE_PREFIX, left, right]), 'buffer');
  scratch[0] = 0x01;
  scratch.set(left, 1);
  scratch.set(right, 33);
  return hash('sha256', scratch, 'buffer');
}

/** The root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

export interface NodeAddress {
  level: number;
  index: number;
}

/** Reads stored perfect-subtree hashes; throws when a node is not there. */
export type NodeSource = (level: number, index: number) => Buffer;

/** Largest power of two strictly below n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isInteger(Math.log2(n));
}

/** MTH(D[start:end]) from perfect subtrees (start is always aligned in RFC 6962's recursion). */
export function subtreeHash(nodes: NodeSource, start: number, end: number): Buffer {
  const size = end - start;
  if (size <= 0) throw new RangeError('empty subtree');
  if (isPowerOfTwo(size)) {
    const level = Math.log2(size);
    return nodes(level, start / size);
  }
  const k = splitPoint(size);
  return nodeHash(subtreeHash(nodes, start, start + k), subtreeHash(nodes, start + k, end));
}

/** MTH of the first `size` leaves. */
export function treeRoot(nodes: NodeSource, size: number): Buffer {
  return size === 0 ? EMPTY_ROOT : subtreeHash(nodes, 0, size);
}

function checkIndex(index: number, size: number): void {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size)
    throw new RangeError(`leaf ${index} is not in a tree of ${size} leaves`);
}

/** RFC 6962 PATH(m, D[n]): the audit path of leaf `index` in the tree of the first `size` leaves. */
export function inclusionProof(nodes: NodeSource, index: number, size: number): Buffer[] {
  checkIndex(index, size);
  const path: Buffer[] = [];
  const walk = (m: number, start: number, end: number): void => {
    const n = end - start;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, start, start + k);
      path.push(subtreeHash(nodes, start + k, end));
    } else {
      walk(m - k, start + k, end);
      path.push(subtreeHash(nodes, start, start + k));
    }
  };
  walk(index, 0, size);
  return path;
}

/** RFC 6962 PROOF(m, D[n]): proves the tree of `oldSize` leaves is a prefix of the one of `newSize`. */
export function consistencyProof(nodes: NodeSource, oldSize: number, newSize: number): Buffer[] {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 1 || oldSize > newSize)
    throw new RangeError(`no consistency proof from ${oldSize} to ${newSize} leaves`);
  const proof: Buffer[] = [];
  const sub = (m: number, start: number, end: number, complete: boolean): void => {
    const n = end - start;
    if (m === n) {
      if (!complete) proof.push(subtreeHash(nodes, start, end));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, start, start + k, complete);
      proof.push(subtreeHash(nodes, start + k, end));
    } else {
      sub(m - k, start + k, end, false);
      proof.push(subtreeHash(nodes, start, start + k));
    }
  };
  sub(oldSize, 0, newSize, true);
  return proof;
}

/** The perfect subtrees a computation reads, found by running it against a recording source. */
export function nodesRead(compute: (nodes: NodeSource) => unknown): NodeAddress[] {
  const seen = new Map<string, NodeAddress>();
  const zero = Buffer.alloc(32);
  compute((level, index) => {
    seen.set(`${level}:${index}`, { level, index });
    return zero;
  });
  return [...seen.values()];
}

/** RFC 9162 2.1.3.2: does `path` prove that `leaf` (a leaf hash) is leaf `index` of the tree with `root`? */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 2.1.4.2: does `proof` show that the tree (oldSize, oldRoot) is a prefix of (newSize, newRoot)? */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 1 || oldSize > newSize)
    return false;
  if (oldSize === newSize) return proof.length === 0 && Buffer.from(oldRoot).equals(newRoot);
  let path: Buffer[] = proof.map((p) => Buffer.from(p));
  if (isPowerOfTwo(oldSize)) path = [Buffer.from(oldRoot), ...path];
  if (path.length === 0) return false;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = path[0];
  let sr: Buffer = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
}

/**
 * The right edge of a growing tree: the roots of its perfect subtrees, one per set bit of the
 * size, as nodes of type N (Buffers for the log, Digests for the verifier), combined by `node`.
 */
abstract class TreeEdge<N> {
  /** pending[level] = hash of the perfect subtree at that level waiting for its right sibling. */
  protected pending: (N | undefined)[] = [];
  protected count = 0;

  protected abstract node(left: N, right: N): N;
  protected abstract empty(): N;

  get size(): number {
    return this.count;
  }

  /** Adds a leaf hash; `completed` hears of every perfect subtree above the leaf it completes. */
  protected push(leaf: N, completed?: (level: number, index: number, hash: N) => void): void {
    this.carry(0, leaf, completed);
  }

  /**
   * Appends a perfect subtree of 2^level leaves given by its hash (say, computed by a worker over
   * leaves that follow); the size must be a multiple of 2^level.
   */
  appendSubtree(level: number, subtree: N): void {
    if (this.count % 2 ** level !== 0)
      throw new RangeError(`a subtree of ${2 ** level} leaves does not start at leaf ${this.count}`);
    this.carry(level, subtree);
  }

  /**
   * Places a perfect subtree of 2^level leaves at the end (the size is a multiple of 2^level),
   * merging it with its left siblings as a binary counter carries; `completed` hears of each merge.
   */
  private carry(
    level: number,
    subtree: N,
    completed?: (level: number, index: number, hash: N) => void,
  ): void {
    const leaves = 2 ** level;
    let hash = subtree;
    let position = this.count / leaves;
    while (position % 2 === 1) {
      hash = this.node(this.pending[level]!, hash);
      this.pending[level] = undefined;
      level++;
      position = (position - 1) / 2;
      completed?.(level, position, hash);
    }
    this.pending[level] = hash;
    this.count += leaves;
  }

  /**
   * This frontier's perfect subtrees by level (undefined where none). Appended highest level
   * first to a frontier whose size is a multiple of a power of two above this size, they extend
   * it by exactly these leaves.
   */
  subtrees(): (N | undefined)[] {
    return [...this.pending];
  }

  /** Appends the subtrees of another frontier (see subtrees()), highest level first. */
  appendSubtrees(subtrees: readonly (N | undefined | null)[]): void {
    for (let level = subtrees.length - 1; level >= 0; level--) {
      const subtree = subtrees[level];
      if (subtree) this.appendSubtree(level, subtree);
    }
  }

  /** MTH of everything so far. */
  root(): N {
    let acc: N | undefined;
    for (let level = 0; level < this.pending.length; level++) {
      const node = this.pending[level];
      if (node === undefined) continue;
      acc = acc === undefined ? node : this.node(node, acc);
    }
    return acc ?? this.empty();
  }

  protected copyInto<F extends TreeEdge<N>>(copy: F): F {
    copy.count = this.count;
    copy.pending = [...this.pending];
    return copy;
  }
}

/** The log's frontier, over Buffers: appending a leaf yields the nodes it completes, to be stored. */
export class MerkleFrontier extends TreeEdge<Buffer> {
  constructor(count = 0, pending: ReadonlyMap<number, Buffer> = new Map()) {
    super();
    this.count = count;
    for (const { level } of MerkleFrontier.pendingAddresses(count)) {
      const hash = pending.get(level);
      if (!hash) throw new Error(`frontier of ${count} leaves needs the subtree at level ${level}`);
      this.pending[level] = hash;
    }
  }

  /** The stored nodes a frontier of `size` leaves is rebuilt from (one per set bit of size). */
  static pendingAddresses(size: number): NodeAddress[] {
    const addresses: NodeAddress[] = [];
    for (let level = 0; 2 ** level <= size; level++) {
      const covering = Math.floor(size / 2 ** level);
      if (covering % 2 === 1) addresses.push({ level, index: covering - 1 });
    }
    return addresses;
  }

  protected node(left: Buffer, right: Buffer): Buffer {
    return nodeHash(left, right);
  }

  protected empty(): Buffer {
    return EMPTY_ROOT;
  }

  /** Adds a leaf (its data); returns every perfect subtree it completes, the leaf first. */
  append(data: Uint8Array): Array<NodeAddress & { hash: Buffer }> {
    return this.appendLeaf(leafHash(data));
  }

  /** Adds a leaf by its leaf hash (SHA-256(0x00 || data), computed elsewhere). */
  appendLeaf(leaf: Buffer): Array<NodeAddress & { hash: Buffer }> {
    const completed = [{ level: 0, index: this.count, hash: leaf }];
    this.push(leaf, (level, index, hash) => completed.push({ level, index, hash }));
    return completed;
  }

  override appendSubtree(level: number, subtree: Uint8Array): void {
    super.appendSubtree(level, Buffer.from(subtree));
  }

  copy(): MerkleFrontier {
    return this.copyInto(new MerkleFrontier());
  }
}

/**
 * The verifier's frontier: nodes as Digests (32-byte latin1 strings, see hash-chain.ts), hashed
 * to Digests. No Buffer per hash (allocating the digests dominated building the tree; see
 * docs/audit.md), no hex to convert, and nothing recorded per leaf.
 */
export class DigestMerkleFrontier extends TreeEdge<Digest> {
  /** Adds the leaf of an entry whose chain hash is `entryHash`. */
  appendEntry(entryHash: Digest): void {
    this.push(leafHashDigest(entryHash));
  }

  protected node(left: Digest, right: Digest): Digest {
    return nodeHashDigest(left, right);
  }

  protected empty(): Digest {
    return EMPTY_ROOT_DIGEST;
  }

  copy(): DigestMerkleFrontier {
    return this.copyInto(new DigestMerkleFrontier());
  }
}

const EMPTY_ROOT_DIGEST = EMPTY_ROOT.toString('latin1') as Digest;
const leafInput = Buffer.alloc(33);
const nodeInput = Buffer.alloc(65);
nodeInput[0] = 0x01;

/** The leaf hash, as a Digest, of an entry whose chain hash is the Digest `data`. */
export function leafHashDigest(data: Digest): Digest {
  if (data.length !== 32) throw new RangeError('a leaf is a 32-byte hash');
  leafInput.write(data, 1, 32, 'latin1');
  return hash('sha256', leafInput, 'binary') as Digest;
}

/** nodeHash of two Digests, as a Digest. */
export function nodeHashDigest(left: Digest, right: Digest): Digest {
  nodeInput.write(left, 1, 32, 'latin1');
  nodeInput.write(right, 33, 32, 'latin1');
  return hash('sha256', nodeInput, 'binary') as Digest;
}
