import type { AnyDatabase } from '@palisade/persistence';
import { consistencyProof, inclusionProof, leafHash, NodeSource, nodesRead } from '../domain';
import { readNodes } from './audit-log.repository';

/**
 * Runs a proof computation on stored nodes: plan which it reads, fetch them (and optionally an
 * entry's hash) in one query, compute.
 */
async function withNodes<T>(
  db: AnyDatabase,
  compute: (nodes: NodeSource) => T,
  entrySequence?: number,
): Promise<{ result: T; entryHash?: Buffer }> {
  const nodes = await readNodes(db, nodesRead(compute), entrySequence);
  const result = compute((level, index) => {
    const hash = nodes.get(`${level}:${index}`);
    if (!hash) throw new Error(`Merkle node ${level}:${index} is missing`);
    return hash;
  });
  return { result, entryHash: nodes.get('entry') };
}

export interface InclusionProof {
  sequence: number;
  leafIndex: number;
  treeSize: number;
  /** The entry's chain hash (the leaf's data) and its RFC 6962 leaf hash. */
  entryHash: string;
  leafHash: string;
  path: string[];
}

/** The audit path of entry `sequence` in the tree of the first `treeSize` entries (undefined if no such entry). */
export async function buildInclusionProof(
  db: AnyDatabase,
  sequence: number,
  treeSize: number,
): Promise<InclusionProof | undefined> {
  const { result: path, entryHash } = await withNodes(
    db,
    (nodes) => inclusionProof(nodes, sequence - 1, treeSize),
    sequence,
  );
  if (!entryHash) return undefined;
  return {
    sequence,
    leafIndex: sequence - 1,
    treeSize,
    entryHash: entryHash.toString('hex'),
    leafHash: leafHash(entryHash).toString('hex'),
    path: path.map((p) => p.toString('hex')),
  };
}

/** RFC 6962 consistency proof between the trees of `from` and `to` entries. */
export async function buildConsistencyProof(db: AnyDatabase, from: number, to: number): Promise<string[]> {
  const { result } = await withNodes(db, (nodes) => consistencyProof(nodes, from, to));
  return result.map((p) => p.toString('hex'));
}
