import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureGoTool, NATS_SERVER_TOOL } from '@palisade/config';
import { startEmbeddedPostgres, startNatsServer } from '@palisade/embedded';

export interface BenchServers {
  natsUrl: string;
  /** A fresh database on the benchmark's own Postgres (its admin's URL; services get their own logins with serviceLogins from libs/runtime). */
  databaseUrl: string;
  dir: string;
}

/**
 * Runs a benchmark against its own nats-server (JetStream, file storage) and Postgres, both
 * stopped (by PID) and their data removed afterwards; exits non-zero when the benchmark throws.
 * nats-server is the pinned build; `PALISADE_NATS_SERVER=/usr/sbin/nats-server` runs another one
 * (the first line printed says which).
 */
export function runBench(name: string, bench: (servers: BenchServers) => Promise<void>): void {
  const main = async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `palisade-bench-${name}-`));
    fs.chmodSync(dir, 0o711);
    const natsServer = ensureGoTool(NATS_SERVER_TOOL, { override: process.env.PALISADE_NATS_SERVER });
    console.log(`${name} benchmark on ${natsServer.describe()}`);
    const nats = await startNatsServer({ dataDir: path.join(dir, 'nats'), binary: natsServer.path });
    try {
      const pg = await startEmbeddedPostgres({
        dataDir: path.join(dir, 'pg', 'data'),
        password: 'bench-password-not-secret',
      });
      try {
        await bench({ natsUrl: nats.url, databaseUrl: await pg.createDatabase('bench'), dir });
      } finally {
        await pg.stop();
      }
    } finally {
      await nats.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

/** The p-th percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
