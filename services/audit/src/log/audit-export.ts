import type { AnyDatabase } from '@palisade/persistence';
import { checkpointLine, entryLine, headerLine } from '../domain';
import { latestCheckpoint, readCheckpoints, streamEntries } from './audit-log.repository';
import { AuditFilter, queryEntries } from './audit-query';
import { buildInclusionProof } from './proofs';

/** Writes the whole log as a complete NDJSON export: header, every checkpoint, every entry. `now`: when it is exported. */
export async function exportComplete(
  db: AnyDatabase,
  write: (line: string) => unknown,
  now: number,
): Promise<number> {
  await write(headerLine({ complete: true, exportedAt: new Date(now).toISOString() }));
  for (const checkpoint of await readCheckpoints(db)) await write(checkpointLine(checkpoint));
  let count = 0;
  for await (const entry of streamEntries(db)) {
    await write(entryLine(entry));
    count++;
  }
  return count;
}

/**
 * Writes the entries matching `filter` that the latest checkpoint covers, each with its inclusion
 * proof against that checkpoint (which the export carries), so each verifies on its own. `now`:
 * when it is exported.
 */
export async function exportFiltered(
  db: AnyDatabase,
  filter: AuditFilter,
  write: (line: string) => unknown,
  now: number,
  pageSize = 1000,
): Promise<number> {
  const checkpoint = await latestCheckpoint(db);
  const stringFilter = Object.fromEntries(
    Object.entries(filter).filter(([, v]) => v !== undefined),
  ) as Record<string, string>;
  await write(headerLine({ complete: false, exportedAt: new Date(now).toISOString(), filter: stringFilter }));
  if (!checkpoint) return 0;
  await write(checkpointLine(checkpoint));
  let after = 0;
  let count = 0;
  for (;;) {
    const page = await queryEntries(db, filter, after, pageSize, checkpoint.treeSize);
    for (const entry of page) {
      const proof = await buildInclusionProof(db, entry.sequence, checkpoint.treeSize);
      await write(entryLine(entry, { treeSize: checkpoint.treeSize, path: proof!.path }));
      count++;
    }
    if (page.length < pageSize) return count;
    after = page[page.length - 1].sequence;
  }
}
