import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AuditEntry, ChainVerifier, ChainVerifierOptions, VerifyResult } from './domain';
import type { ChunkRequest, ChunkResult } from './parallel-verify.worker';

/**
 * verifyLog with each entry's own checks (checksum, hash, columns, leaf hash: most of the work)
 * spread over worker threads, while this thread links the chain, builds the tree and checks the
 * checkpoints in order. Same result as verifyLog, first bad sequence included.
 */
export async function verifyLogParallel(
  pages: AsyncIterable<AuditEntry[]> | Iterable<AuditEntry[]>,
  options: ChainVerifierOptions & { workers?: number; chunkSize?: number },
): Promise<VerifyResult> {
  const verifier = new ChainVerifier(options);
  const count = Math.max(1, options.workers ?? availableParallelism());
  const chunkSize = options.chunkSize ?? 2_000;
  const workers = Array.from({ length: count }, () => startWorker());
  const waiting = new Map<number, (result: ChunkResult) => void>();
  for (const worker of workers)
    worker.on('message', (result: ChunkResult) => {
      waiting.get(result.id)?.(result);
      waiting.delete(result.id);
    });
  const failed = new Promise<never>((_, reject) => {
    for (const worker of workers) worker.once('error', reject);
  });
  failed.catch(() => undefined);

  let next = 0;
  const inFlight: { entries: AuditEntry[]; result: Promise<ChunkResult> }[] = [];
  const send = (entries: AuditEntry[]) => {
    const id = next++;
    const result = new Promise<ChunkResult>((resolve) => waiting.set(id, resolve));
    const request: ChunkRequest = { id, entries };
    workers[id % count].postMessage(request);
    inFlight.push({ entries, result: Promise.race([result, failed]) });
  };
  /** Applies the oldest chunk in order; false once the log is bad. */
  const settle = async (): Promise<boolean> => {
    const { entries, result } = inFlight.shift()!;
    const { leaves, problem } = await result;
    for (let i = 0; i < entries.length; i++) {
      const check =
        problem && problem.index === i
          ? problem.check
          : { leaf: Buffer.from(leaves.buffer, leaves.byteOffset + i * 32, 32) };
      if (!verifier.addChecked(entries[i], check)) return false;
    }
    return true;
  };

  try {
    let ok = true;
    for await (const page of pages) {
      for (let start = 0; start < page.length && ok; start += chunkSize) {
        send(page.slice(start, start + chunkSize));
        if (inFlight.length >= 2 * count) ok = await settle();
      }
      if (!ok) break;
    }
    while (ok && inFlight.length) ok = await settle();
    return verifier.finish();
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** A worker running the TypeScript worker file (swc registered in it, as in this process). */
function startWorker(): Worker {
  return new Worker(path.join(__dirname, 'parallel-verify.worker.ts'), {
    execArgv: ['-r', require.resolve('@swc-node/register')],
    env: {
      ...process.env,
      SWC_NODE_PROJECT:
        process.env.SWC_NODE_PROJECT ?? path.resolve(__dirname, '..', '..', '..', 'tsconfig.base.json'),
    },
  });
}
