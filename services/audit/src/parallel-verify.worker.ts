// Worker thread of verifyRanges: checks whole ranges of entries, reading them itself.
import { parentPort, workerData } from 'node:worker_threads';
import { createDatabase } from '@palisade/persistence';
import { AuditEntry, checkRange, RangeCheck } from './domain';
import { rangePages } from './log/audit-log.repository';

export interface WorkerInit {
  database?: { url: string; schema: string };
}

export interface RangeJob {
  id: number;
  first: number;
  limit: number;
  checkpointSizes: number[];
  /** The range's entries, when they are not read from a database. */
  entries?: AuditEntry[];
}

export type WorkerReply = { ready: true } | { id: number; check: RangeCheck } | { id: number; error: string };

const { database } = workerData as WorkerInit;
const db = database
  ? createDatabase({
      url: database.url,
      schema: database.schema,
      poolSize: 2,
      applicationName: 'palisade-audit-verify',
    })
  : undefined;

parentPort!.on('message', (job: RangeJob) => {
  const pages = job.entries ? [job.entries] : rangePages(db!, job.first, job.limit);
  void checkRange(job.first, job.checkpointSizes, pages).then(
    (check) => parentPort!.postMessage({ id: job.id, check } satisfies WorkerReply),
    (error: Error) => parentPort!.postMessage({ id: job.id, error: error.message } satisfies WorkerReply),
  );
});

parentPort!.postMessage({ ready: true } satisfies WorkerReply);
