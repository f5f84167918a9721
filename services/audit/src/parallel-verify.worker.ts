// Worker thread of verifyRanges: checks whole ranges of entries, reading them itself. It imports
// only what it runs (pg, the COPY decoder, the range checks), so it is ready in tens of ms.
import { parentPort, workerData } from 'node:worker_threads';
import { createPool } from '@palisade/persistence/copy';
import { checkRange, PreparedEntry, RangeCheck } from './domain/range-check';
import { preparedRangePages } from './log/entry-ranges';

export interface WorkerInit {
  database?: { url: string; schema: string };
}

export interface RangeJob {
  id: number;
  first: number;
  limit: number;
  checkpointSizes: number[];
  /** The range's entries, when they are not read from a database. */
  entries?: PreparedEntry[];
}

export type WorkerReply = { ready: true } | { id: number; check: RangeCheck } | { id: number; error: string };

const { database } = workerData as WorkerInit;
const pool = database
  ? createPool({
      url: database.url,
      schema: database.schema,
      poolSize: 2,
      applicationName: 'palisade-audit-verify',
    })
  : undefined;

parentPort!.on('message', (job: RangeJob) => {
  const pages = job.entries ? [job.entries] : preparedRangePages(pool!, job.first, job.limit);
  void checkRange(job.first, job.checkpointSizes, pages).then(
    (check) => parentPort!.postMessage({ id: job.id, check } satisfies WorkerReply),
    (error: Error) => parentPort!.postMessage({ id: job.id, error: error.message } satisfies WorkerReply),
  );
});

parentPort!.postMessage({ ready: true } satisfies WorkerReply);
