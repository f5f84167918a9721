import type { AnyDatabase } from '@palisade/persistence';
import { sql } from 'kysely';
import { consistencyProof, inclusionProof, leafHash, NodeSource, nodesRead } from '../domain';
import { readNodes } from './audit-log.repository';

/** Runs a proof computation on stored nodes: plan which it reads, fetch them in one query, compute. */
async function withNodes<T>(db: AnyDatabase, compute: (nodes: NodeSource) => T): Promise<T> {
  const nodes = await readNodes(db, nodesRead(compute));
  return compute((level, index) => {
    const hash = nodes.get(`${level}:${index}`);
    if (!hash) throw new Error(`Merkle node ${level}:${index} is missing`);
    return hash;
  });
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
  const { rows } = await sql<{
    hash: Buffer;
  }>`select hash from audit_log where sequence = ${sequence}`.execute(db);
  if (!rows[0]) return undefined;
  const path = await withNodes(db, (nodes) => inclusionProof(nodes, sequence - 1, treeSize));
  return {
    sequence,
    leafIndex: sequence - 1,
    treeSize,
    entryHash: rows[0].hash.toString('hex'),
    leafHash: leafHash(rows[0].hash).toString('hex'),
    path: path.map((p) => p.toString('hex')),
  };
}

/** RFC 6962 consistency proof between the trees of `from` and `to` entries. */
export async function buildConsistencyProof(db: AnyDatabase, from: number, to: number): Promise<string[]> {
  const proof = await withNodes(db, (nodes) => consistencyProof(nodes, from, to));
  return proof.map((p) => p.toString('hex'));
}
