// npm run bench:audit [-- entries]: the audit log's append rate (hash chain, Merkle nodes and a
// signed checkpoint every 10,000 entries, into a real Postgres), its verification rate, and
// inclusion-proof latency; each beside a baseline measured in the same run on the same machine.
// A million entries by default: verifying 200,000 takes about a second, of which the worker
// thread's start-up (about 80 ms) and the last range's tail are a tenth; the rate of the first
// 200,000 is printed too.
import { createHash, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os, { availableParallelism } from 'node:os';
import path from 'node:path';
import { systemClock } from '@palisade/domain';
import { AUDIT, AUDIT_EVENTS, EventEnvelope } from '@palisade/contracts';
import { startEmbeddedPostgres } from '@palisade/embedded';
import { createDatabase, EventStore, runMigrations } from '@palisade/persistence';
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { auditMigrations } from '../migrations';
import { canonicalJson, GENESIS_HASH, keyRing, verifyLog } from '../src/domain';
import { appendToLog } from '../src/log/audit-appender';
import { loadHead, readCheckpoints, readEntries } from '../src/log/audit-log.repository';
import { rangePages } from '../src/log/entry-ranges';
import { buildInclusionProof } from '../src/log/proofs';
import { verifyRanges } from '../src/parallel-verify';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
/** The smallest log the issue measures verification over; printed as a prefix of the full log. */
const PREFIX = 200_000;
const BATCH = 1_000;
const PROOFS = 2_000;

function envelope(n: number): EventEnvelope {
  return {
    specversion: '1.0',
    id: uuidv7(),
    source: '/palisade/identity',
    type: 'palisade.identity.session.started.v1',
    subject: `session/${n}`,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: { sessionId: `s-${n}`, userId: `u-${n % 997}`, method: 'oidc', ip: '10.0.0.1' },
    orgid: `org-${n % 50}`,
    actor: `user:u-${n % 997}`,
    correlationid: `c-${n}`,
    sequence: n,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const fmt = (n: number) => n.toLocaleString('en-US');

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-bench-audit-'));
  fs.chmodSync(dir, 0o711);
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg', 'data'),
    password: 'bench-audit-pw',
  });
  const db = createDatabase({ url: pg.url, schema: AUDIT.schema, poolSize: 4 });
  try {
    await runMigrations(db, AUDIT.schema, auditMigrations);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const settings = {
      store: new EventStore(AUDIT, AUDIT_EVENTS),
      signingKey: async () => privateKey,
      checkpointEvery: 10_000,
      clock: systemClock,
    };
    const envelopes = Array.from({ length: TOTAL }, (_, i) => envelope(i + 1));
    console.log(`audit benchmark: ${fmt(TOTAL)} entries, batches of ${BATCH}, ${os.cpus().length} cores\n`);

    // Baseline 1: bare SHA-256 chaining of the same canonical texts, in memory.
    let started = performance.now();
    let prev = GENESIS_HASH;
    for (const e of envelopes) {
      const checksum = createHash('sha256').update(canonicalJson(e)).digest();
      prev = createHash('sha256').update(prev).update(checksum).digest();
    }
    const bareChainMs = performance.now() - started;

    // Baseline 2: the same rows inserted into a plain table (no chain, Merkle nodes, lock or role).
    await sql`create table plain_log (sequence bigint primary key, event_id uuid unique, canonical text)`.execute(
      db,
    );
    started = performance.now();
    for (let i = 0; i < TOTAL; i += BATCH) {
      const batch = envelopes.slice(i, i + BATCH);
      await db.transaction().execute(async (trx) => {
        await sql`insert into plain_log select * from unnest(${batch.map((e) => e.sequence)}::int8[], ${batch.map((e) => e.id)}::uuid[], ${batch.map((e) => canonicalJson(e))}::text[])`.execute(
          trx,
        );
      });
    }
    const plainMs = performance.now() - started;

    // The audit append path (what the consumer runs per batch).
    started = performance.now();
    for (let i = 0; i < TOTAL; i += BATCH) {
      const batch = envelopes.slice(i, i + BATCH);
      await db.transaction().execute((trx) => appendToLog(trx, batch, settings));
    }
    const appendMs = performance.now() - started;
    const checkpoints = await readCheckpoints(db);

    console.log('append (Postgres, one transaction per batch)');
    console.log(
      `  audit log (chain + Merkle + checkpoints): ${fmt(rate(TOTAL, appendMs))} entries/s  (${(appendMs / 1000).toFixed(1)} s, ${checkpoints.length} checkpoints signed)`,
    );
    console.log(
      `  baseline, plain insert of the same rows:  ${fmt(rate(TOTAL, plainMs))} entries/s  ratio ${(appendMs / plainMs).toFixed(2)}x the time`,
    );
    console.log(`  baseline, bare SHA-256 chain in memory:   ${fmt(rate(TOTAL, bareChainMs))} entries/s`);

    // Verification: from Postgres as `palisade audit verify` runs it (ranges read and checked by
    // this thread and worker threads), and of entries already in memory in this thread alone.
    const publicKeys = keyRing([publicKey]);
    const lastSequence = (await loadHead(db)).sequence;
    const fromDatabase = (threads: number, upTo = lastSequence) =>
      verifyRanges(
        { database: { url: pg.url, schema: AUDIT.schema }, db, lastSequence: upTo },
        { publicKeys, checkpoints: checkpoints.filter((c) => c.treeSize <= upTo), threads },
      );
    const cores = availableParallelism();
    started = performance.now();
    const oneThread = await fromDatabase(1);
    const verifyDbMs = performance.now() - started;
    started = performance.now();
    const allThreads = await fromDatabase(cores);
    const verifyThreadsMs = performance.now() - started;
    const prefix = Math.min(PREFIX, lastSequence);
    started = performance.now();
    const prefixThreads = await fromDatabase(cores, prefix);
    const verifyPrefixMs = performance.now() - started;
    started = performance.now();
    let read = 0;
    for await (const page of rangePages(db, 1, TOTAL)) read += page.length;
    const readMs = performance.now() - started;
    const inMemory = await readEntries(db, 0, TOTAL);
    started = performance.now();
    const fromMemory = verifyLog(inMemory, { publicKeys, checkpoints });
    const verifyMemMs = performance.now() - started;
    started = performance.now();
    prev = GENESIS_HASH;
    for (const e of inMemory) {
      const checksum = createHash('sha256').update(e.canonical).digest();
      prev = createHash('sha256').update(prev).update(checksum).digest();
    }
    const bareVerifyMs = performance.now() - started;
    if (!oneThread.ok || !allThreads.ok || !prefixThreads.ok || !fromMemory.ok)
      throw new Error(
        `verification failed: ${JSON.stringify([oneThread, allThreads, prefixThreads, fromMemory])}`,
      );
    console.log(
      '\nverify (sequence, checksum, chain, columns vs JSON, Merkle roots and signatures of all checkpoints)',
    );
    console.log(
      `  from Postgres, ${cores} threads (the default):  ${fmt(rate(TOTAL, verifyThreadsMs))} entries/s  (worker start-up included)`,
    );
    if (prefix < TOTAL)
      console.log(
        `${`  the first ${fmt(prefix)} only, ${cores} threads:`.padEnd(43)}${fmt(rate(prefix, verifyPrefixMs))} entries/s  (worker start-up included)`,
      );
    console.log(`  from Postgres, 1 thread:                 ${fmt(rate(TOTAL, verifyDbMs))} entries/s`);
    console.log(
      `  baseline, reading the rows, no checks:   ${fmt(rate(read, readMs))} entries/s  (1 thread: verification takes ${(verifyDbMs / readMs).toFixed(2)}x the time of the read)`,
    );
    console.log(`  entries in memory, 1 thread:             ${fmt(rate(TOTAL, verifyMemMs))} entries/s`);
    console.log(
      `  baseline, bare SHA-256 re-chain:          ${fmt(rate(TOTAL, bareVerifyMs))} entries/s  ratio ${(verifyMemMs / bareVerifyMs).toFixed(2)}x the time (in memory)`,
    );

    // Inclusion proofs against the latest checkpoint, random entries; baseline: a primary-key lookup.
    const size = checkpoints[checkpoints.length - 1].treeSize;
    const proofTimes: number[] = [];
    const lookupTimes: number[] = [];
    for (let i = 0; i < PROOFS; i++) {
      const sequence = 1 + Math.floor(Math.random() * size);
      let t = performance.now();
      await buildInclusionProof(db, sequence, size);
      proofTimes.push(performance.now() - t);
      t = performance.now();
      await sql`select hash from audit_log where sequence = ${sequence}`.execute(db);
      lookupTimes.push(performance.now() - t);
    }
    proofTimes.sort((a, b) => a - b);
    lookupTimes.sort((a, b) => a - b);
    console.log(`\ninclusion proof in a tree of ${fmt(size)} (${PROOFS} random entries, one query each)`);
    console.log(
      `  proof:     p50 ${percentile(proofTimes, 50).toFixed(2)} ms  p99 ${percentile(proofTimes, 99).toFixed(2)} ms`,
    );
    console.log(
      `  baseline, primary-key lookup: p50 ${percentile(lookupTimes, 50).toFixed(2)} ms  p99 ${percentile(lookupTimes, 99).toFixed(2)} ms`,
    );

    const targets = [
      ['append >= 10,000 entries/s', rate(TOTAL, appendMs) >= 10_000],
      [
        'verify >= 200,000 entries/s (from Postgres, default threads)',
        rate(TOTAL, verifyThreadsMs) >= 200_000,
      ],
      ['proof p99 < 5 ms', percentile(proofTimes, 99) < 5],
    ] as const;
    console.log('\ntargets');
    for (const [name, met] of targets) console.log(`  ${met ? 'met    ' : 'MISSED '} ${name}`);
  } finally {
    await db.destroy();
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
