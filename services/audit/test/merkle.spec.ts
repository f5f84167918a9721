import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  consistencyProof,
  Digest,
  DigestMerkleFrontier,
  EMPTY_ROOT,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  NodeSource,
  nodeHash,
  nodesRead,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../src/domain';

/** RFC 6962 MTH written straight from the definition, over all leaves (the reference). */
function referenceRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1)
    return createHash('sha256')
      .update(Buffer.from([0]))
      .update(leaves[0])
      .digest();
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(referenceRoot(leaves.slice(0, k)))
    .update(referenceRoot(leaves.slice(k)))
    .digest();
}

/** Every perfect subtree of a list of leaves, as the service stores them. */
function storedNodes(leaves: readonly Buffer[]): NodeSource {
  const frontier = new MerkleFrontier();
  const nodes = new Map<string, Buffer>();
  for (const leaf of leaves)
    for (const n of frontier.append(leaf)) nodes.set(`${n.level}:${n.index}`, n.hash);
  return (level, index) => {
    const hash = nodes.get(`${level}:${index}`);
    if (!hash) throw new Error(`node ${level}:${index} is not stored`);
    return hash;
  };
}

const leavesArb = (max = 70) =>
  fc.array(fc.uint8Array({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: max });
/** Distinct leaves (the index is part of each), so that no two positions hold the same data. */
const asBuffers = (leaves: Uint8Array[]) => leaves.map((l, i) => Buffer.concat([Buffer.from(`${i}:`), l]));

describe('Merkle tree (RFC 6962 / 9162)', () => {
  it('hashes leaves with 0x00 and nodes with 0x01, and the empty tree as SHA-256 of nothing', () => {
    const a = Buffer.from('a');
    expect(leafHash(a)).toEqual(
      createHash('sha256')
        .update(Buffer.from([0x00, 0x61]))
        .digest(),
    );
    const l = randomBytes(32);
    const r = randomBytes(32);
    expect(nodeHash(l, r)).toEqual(
      createHash('sha256')
        .update(Buffer.concat([Buffer.from([1]), l, r]))
        .digest(),
    );
    expect(EMPTY_ROOT.toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(new MerkleFrontier().root()).toEqual(EMPTY_ROOT);
  });

  it('the frontier root and the root from stored nodes equal the reference MTH at every size (property)', () => {
    fc.assert(
      fc.property(leavesArb(), (raw) => {
        const leaves = asBuffers(raw);
        const frontier = new MerkleFrontier();
        const nodes = storedNodes(leaves);
        leaves.forEach((leaf, i) => {
          frontier.append(leaf);
          const reference = referenceRoot(leaves.slice(0, i + 1));
          expect(frontier.root()).toEqual(reference);
          expect(treeRoot(nodes, i + 1)).toEqual(reference);
        });
      }),
      { numRuns: 60 },
    );
  });

  it("the verifier's Digest frontier has the Buffer frontier's root at every size, also assembled from ranges' subtrees (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 70 }),
        fc.integer({ min: 0, max: 4 }),
        (hashes, rangeLevel) => {
          const reference = new MerkleFrontier();
          const digests = new DigestMerkleFrontier();
          // Ranges of 2^rangeLevel leaves, each in a frontier of its own, then appended whole.
          const assembled = new DigestMerkleFrontier();
          let range = new DigestMerkleFrontier();
          const digest = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1') as Digest;
          hashes.forEach((entryHash, i) => {
            reference.append(entryHash);
            digests.appendEntry(digest(entryHash));
            expect(digests.root()).toBe(digest(reference.root()));
            range.appendEntry(digest(entryHash));
            if (range.size === 2 ** rangeLevel || i === hashes.length - 1) {
              assembled.appendSubtrees(range.subtrees());
              range = new DigestMerkleFrontier();
              expect(assembled.root()).toBe(digest(reference.root()));
            }
          });
          expect(assembled.size).toBe(hashes.length);
        },
      ),
      { numRuns: 80 },
    );
    expect(new DigestMerkleFrontier().root()).toBe(EMPTY_ROOT.toString('latin1'));
    expect(() => new DigestMerkleFrontier().appendEntry('z'.repeat(31) as Digest)).toThrow(RangeError);
  });

  it('a frontier rebuilt from its stored pending nodes continues the same tree', () => {
    fc.assert(
      fc.property(leavesArb(), fc.nat(), (raw, cut) => {
        const leaves = asBuffers(raw);
        const at = cut % leaves.length;
        const nodes = storedNodes(leaves);
        const pending = new Map(
          MerkleFrontier.pendingAddresses(at).map((a) => [a.level, nodes(a.level, a.index)] as const),
        );
        const resumed = new MerkleFrontier(at, pending);
        for (const leaf of leaves.slice(at)) resumed.append(leaf);
        expect(resumed.root()).toEqual(referenceRoot(leaves));
      }),
      { numRuns: 60 },
    );
  });

  it('every inclusion proof verifies, and fails for another leaf, index, size a changed path or another root (property)', () => {
    fc.assert(
      fc.property(leavesArb(), fc.nat(), fc.nat(), (raw, a, b) => {
        const leaves = asBuffers(raw);
        const nodes = storedNodes(leaves);
        const size = 1 + (a % leaves.length);
        const index = b % size;
        const root = referenceRoot(leaves.slice(0, size));
        const path = inclusionProof(nodes, index, size);
        const leaf = leafHash(leaves[index]);
        expect(verifyInclusion(leaf, index, size, path, root)).toBe(true);
        expect(
          verifyInclusion(
            leafHash(Buffer.concat([leaves[index], Buffer.from('x')])),
            index,
            size,
            path,
            root,
          ),
        ).toBe(false);
        if (size > 1) {
          expect(verifyInclusion(leaf, (index + 1) % size, size, path, root)).toBe(false);
          const changed = path.map((p, i) =>
            i === index % path.length ? Buffer.from(p.map((x) => x ^ 1)) : p,
          );
          expect(verifyInclusion(leaf, index, size, changed, root)).toBe(false);
          expect(verifyInclusion(leaf, index, size, path.slice(1), root)).toBe(false);
        }
        // (The size alone is not authenticated by a path: the signed checkpoint binds it to the root.)
        expect(verifyInclusion(leaf, index, size, path, referenceRoot(leaves.slice(0, size + 1)))).toBe(
          size === leaves.length,
        );
      }),
      { numRuns: 200 },
    );
  });

  it('every consistency proof verifies, and fails for other roots or a changed proof (property)', () => {
    fc.assert(
      fc.property(leavesArb(), fc.nat(), fc.nat(), (raw, a, b) => {
        const leaves = asBuffers(raw);
        const nodes = storedNodes(leaves);
        const newSize = 1 + (a % leaves.length);
        const oldSize = 1 + (b % newSize);
        const oldRoot = referenceRoot(leaves.slice(0, oldSize));
        const newRoot = referenceRoot(leaves.slice(0, newSize));
        const proof = consistencyProof(nodes, oldSize, newSize);
        expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof)).toBe(true);
        const forged = randomBytes(32);
        if (oldSize < newSize) {
          expect(verifyConsistency(oldSize, newSize, forged, newRoot, proof)).toBe(false);
          expect(verifyConsistency(oldSize, newSize, oldRoot, forged, proof)).toBe(false);
          const changed = proof.map((p, i) => (i === 0 ? Buffer.from(p.map((x) => x ^ 0x80)) : p));
          expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, changed)).toBe(false);
        } else expect(verifyConsistency(oldSize, newSize, oldRoot, forged, proof)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('a tree whose old part was rewritten has no consistency proof with the old root', () => {
    const leaves = Array.from({ length: 13 }, (_, i) => Buffer.from([i]));
    const oldRoot = referenceRoot(leaves.slice(0, 6));
    const rewritten = leaves.map((l, i) => (i === 2 ? Buffer.from([99]) : l));
    const proof = consistencyProof(storedNodes(rewritten), 6, 13);
    expect(verifyConsistency(6, 13, oldRoot, referenceRoot(rewritten), proof)).toBe(false);
  });

  it('plans the stored nodes a proof reads (at most a few per level)', () => {
    const size = 1_000_003;
    const read = nodesRead((nodes) => inclusionProof(nodes, 777_777, size));
    expect(read.length).toBeGreaterThan(0);
    expect(read.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size)));
    for (const { level, index } of read) expect((index + 1) * 2 ** level).toBeLessThanOrEqual(size);
  });
});
