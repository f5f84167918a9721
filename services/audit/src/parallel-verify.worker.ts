// Worker thread of verifyLogParallel: runs each entry's own checks (checksum, hash, columns, leaf).
import { parentPort } from 'node:worker_threads';
import { AuditEntry, checkEntryAlone, EntryCheck } from './domain';

export interface ChunkRequest {
  id: number;
  entries: AuditEntry[];
}

export interface ChunkResult {
  id: number;
  /** 32 bytes per entry (up to the first problem). */
  leaves: Uint8Array;
  /** The first entry that failed its own checks. */
  problem?: { index: number; check: Extract<EntryCheck, { code: string }> };
}

parentPort!.on('message', ({ id, entries }: ChunkRequest) => {
  const leaves = new Uint8Array(entries.length * 32);
  let problem: ChunkResult['problem'];
  for (let i = 0; i < entries.length; i++) {
    const check = checkEntryAlone(entries[i]);
    if ('code' in check) {
      problem = { index: i, check };
      break;
    }
    leaves.set(check.leaf, i * 32);
  }
  const result: ChunkResult = { id, leaves, problem };
  parentPort!.postMessage(result, [leaves.buffer]);
});
