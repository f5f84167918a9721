import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import readline from 'node:readline';
import { once } from 'node:events';
import { AUDIT, checkpointSignedData } from '@palisade/contracts';
import { systemClock } from '@palisade/domain';
import type { Clock } from '@palisade/domain';
import { createDatabase } from '@palisade/persistence';
import { keyRing, parsePublicKey, SignedCheckpoint, verifyExport, VerifyResult } from './domain';
import { loadHead, readCheckpoints } from './log/audit-log.repository';
import { verifyRanges } from './parallel-verify';
import { exportComplete } from './log/audit-export';

/**
 * What `palisade audit verify` and `palisade audit export` run: verification of the live log in
 * Postgres (read only) or of an export file, trusting only the given public keys.
 */

export interface VerifySources {
  /** Ed25519 public keys: PEM text or base64 raw keys. */
  publicKeys: readonly string[];
  /** Checkpoints learned elsewhere (JSON text of one checkpoint, or an array of them). */
  trusted?: readonly string[];
}

function keysAndTrust(sources: VerifySources) {
  const publicKeys = keyRing(sources.publicKeys.map(parsePublicKey));
  const trusted: SignedCheckpoint[] = (sources.trusted ?? []).flatMap((text) => {
    const value = JSON.parse(text) as unknown;
    return (Array.isArray(value) ? value : [value]).map((c) => checkpointSignedData.parse(c));
  });
  return { publicKeys, trusted };
}

/**
 * Verifies the audit schema of a Postgres database, in `threads` threads (this one and worker
 * threads, each reading its own ranges of the log): same verdict whatever the number.
 */
export async function verifyDatabase(
  databaseUrl: string,
  sources: VerifySources,
  threads = availableParallelism(),
): Promise<VerifyResult> {
  const db = createDatabase({
    url: databaseUrl,
    schema: AUDIT.schema,
    poolSize: 2,
    applicationName: 'palisade-audit-verify',
  });
  try {
    const { publicKeys, trusted } = keysAndTrust(sources);
    return await verifyRanges(
      {
        database: { url: databaseUrl, schema: AUDIT.schema },
        db,
        lastSequence: (await loadHead(db)).sequence,
      },
      { publicKeys, checkpoints: await readCheckpoints(db), trusted, threads },
    );
  } finally {
    await db.destroy();
  }
}

/** Verifies an NDJSON export file offline. */
export async function verifyExportFile(file: string, sources: VerifySources): Promise<VerifyResult> {
  const { publicKeys, trusted } = keysAndTrust(sources);
  const lines = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  return verifyExport(lines, { publicKeys, trusted });
}

/** Writes a complete export of the database's audit log to `file`; returns the entry count. */
export async function exportDatabaseToFile(
  databaseUrl: string,
  file: string,
  clock: Clock = systemClock,
): Promise<number> {
  const db = createDatabase({
    url: databaseUrl,
    schema: AUDIT.schema,
    poolSize: 2,
    applicationName: 'palisade-audit-export',
  });
  const out = fs.createWriteStream(file, { mode: 0o600 });
  try {
    const count = await exportComplete(
      db,
      async (line) => {
        if (!out.write(`${line}\n`)) await once(out, 'drain');
      },
      clock.now(),
    );
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    return count;
  } finally {
    await db.destroy();
  }
}

/** One line for people: what was verified, or the first bad sequence and why. */
export function describeResult(result: VerifyResult): string {
  if (result.ok)
    return `ok: ${result.entriesVerified} entries and ${result.checkpointsVerified} checkpoints verified; root ${result.rootHash || '(none)'}`;
  return `FAILED at sequence ${result.sequence} (${result.code}): ${result.reason}`;
}
