import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { AnyDatabase } from '@palisade/persistence';
import { startTypeScriptWorker } from '@palisade/runtime/worker';
import {
  AuditEntry,
  ChainVerifier,
  ChainVerifierOptions,
  checkRange,
  PreparedEntry,
  prepareEntry,
  RangeCheck,
  VerifyResult,
} from './domain';
import { preparedRangePages } from './log/entry-ranges';
import type { RangeJob, WorkerInit, WorkerReply } from './parallel-verify.worker';

/**
 * Verification split into ranges of 2^k consecutive entries. Each range is checked on its own
 * (checksums, hashes, columns, chain links inside it, its Merkle subtrees) by this thread or a
 * worker thread, each reading its ranges itself; this thread then applies the ranges in order
 * (links between ranges, checkpoint roots and signatures). Same verdict as verifyLog, first bad
 * sequence included, whatever the number of threads.
 */

/** Where the entries are: a database every thread reads on its own, or an array (tests). */
export type VerifySource =
  | {
      database: { url: string; schema: string };
      /** This thread's connection to the same database. */
      db: AnyDatabase;
      /** The highest sequence when verification starts: the ranges cover the log up to it. */
      lastSequence: number;
    }
  | { entries: readonly AuditEntry[] };

export interface ParallelOptions extends ChainVerifierOptions {
  /** Threads checking ranges, this one included (default: the machine's cores). */
  threads?: number;
  /** Entries per range, a power of two (default 2^14). */
  rangeSize?: number;
}

export async function verifyRanges(source: VerifySource, options: ParallelOptions): Promise<VerifyResult> {
  const verifier = new ChainVerifier(options);
  const rangeSize = options.rangeSize ?? 2 ** 14;
  if (!Number.isInteger(Math.log2(rangeSize))) throw new RangeError('rangeSize must be a power of two');
  const last = 'entries' in source ? source.entries.length : source.lastSequence;
  const sizes = [...options.checkpoints, ...(options.trusted ?? [])].map((c) => c.treeSize);
  const jobs: RangeJob[] = Array.from({ length: Math.max(1, Math.ceil(last / rangeSize)) }, (_, i) => {
    const first = i * rangeSize + 1;
    return {
      id: i,
      first,
      limit: rangeSize,
      checkpointSizes: sizes.filter((size) => size >= first && size < first + rangeSize),
    };
  });

  const results = new Map<number, RangeCheck>();
  let applied = 0;
  let next = 0;
  let done = false;
  let wake: (() => void) | undefined;
  const settle = (id: number, check: RangeCheck) => {
    results.set(id, check);
    while (!done && results.has(applied)) {
      if (!verifier.applyRange(results.get(applied)!)) done = true;
      results.delete(applied++);
    }
    if (applied === jobs.length) done = true;
    wake?.();
  };
  const take = (): RangeJob | undefined => (done || next >= jobs.length ? undefined : jobs[next++]);

  // No more workers than ranges this thread would not take itself (a small log needs none).
  const threads = Math.max(1, options.threads ?? availableParallelism());
  const workers = Array.from({ length: Math.min(threads, jobs.length) - 1 }, () =>
    startWorker('entries' in source ? {} : { database: source.database }),
  );
  let failed: Error | undefined;
  const stop = (error: Error) => {
    failed ??= error;
    done = true;
    wake?.();
  };
  const runWorker = (worker: Worker) => {
    const feed = () => {
      const job = take();
      if (job)
        worker.postMessage('entries' in source ? { ...job, entries: slice(source.entries, job) } : job);
    };
    worker.on('message', (reply: WorkerReply) => {
      if ('ready' in reply) return feed();
      if ('error' in reply) return stop(new Error(`verification worker: ${reply.error}`));
      settle(reply.id, reply.check);
      feed();
    });
    worker.once('error', stop);
  };

  try {
    workers.forEach(runWorker);
    // This thread checks ranges too, between applying what the workers send.
    for (let job = take(); job; job = take()) {
      const pages =
        'entries' in source
          ? [slice(source.entries, job)]
          : preparedRangePages(source.db, job.first, job.limit);
      settle(job.id, await checkRange(job.first, job.checkpointSizes, pages));
    }
    while (!done) await new Promise<void>((resolve) => (wake = resolve));
    if (failed) throw failed;
    return verifier.finish();
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

function slice(entries: readonly AuditEntry[], job: RangeJob): PreparedEntry[] {
  return entries.slice(job.first - 1, job.first - 1 + job.limit).map(prepareEntry);
}

function startWorker(init: WorkerInit): Worker {
  return startTypeScriptWorker(path.join(__dirname, 'parallel-verify.worker.ts'), { workerData: init });
}
