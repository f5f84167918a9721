import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AUDIT, checkpointSigned } from '@palisade/contracts';
import { uniqueId } from '@palisade/testing';
import { sql } from 'kysely';
import { createPublicKey } from 'node:crypto';
import { keyRing, verifyLog } from '../src/domain';
import { loadHead, readCheckpoints, readEntries } from '../src/log/audit-log.repository';
import { RANGE_READ_SETTINGS, rangeQuery } from '../src/log/entry-ranges';
import { verifyRanges } from '../src/parallel-verify';
import { AuditHarness, startAuditHarness } from './audit-harness';
import { ed25519 } from './audit.fixture';

const bin = path.resolve(__dirname, '..', '..', '..', 'cli', 'bin', 'palisade.js');

/** Runs `palisade ...args`; resolves with its exit code and output. */
function palisade(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('palisade audit verify / export', () => {
  let h: AuditHarness;
  let dir: string;
  let keyFile: string;
  let entries: number;

  beforeAll(async () => {
    h = await startAuditHarness({ AUDIT_CHECKPOINT_EVERY: '16' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-audit-verify-'));
    const org = uniqueId('org');
    // Four rounds, each checkpointed before the next: at least four checkpoints.
    for (let i = 0; i < 4; i++)
      await h.emitCheckpointed(i % 2 ? 'identity' : 'placement', org, 20, 'note é€😀 "x"');
    expect(await h.count(`type = '${checkpointSigned.type}'`)).toBeGreaterThanOrEqual(4);
    entries = await h.count();
    const key = (await (await fetch(`${h.running.url}/v1/audit/public-key`)).json()) as { pem: string };
    keyFile = path.join(dir, 'audit.pub.pem');
    fs.writeFileSync(keyFile, key.pem);
  });
  afterAll(async () => {
    await h?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const verifyDb = (...extra: string[]) =>
    palisade(['audit', 'verify', '--database-url', h.database.url, '--public-key', keyFile, ...extra]);

  it('verifies the live log with only the public key, in one thread or in worker threads', async () => {
    for (const threads of ['1', '2']) {
      const run = await verifyDb('--threads', threads);
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(new RegExp(`^ok: ${entries} entries and \\d+ checkpoints verified`));
      expect(run.code).toBe(0);
    }
  });

  it('exports the log and verifies the file offline; any changed byte in it is reported', async () => {
    const file = path.join(dir, 'export.ndjson');
    const exported = await palisade(['audit', 'export', '--database-url', h.database.url, '--out', file]);
    expect(exported.stdout).toContain(`exported ${entries} entries`);
    const ok = await palisade(['audit', 'verify', '--file', file, '--public-key', keyFile]);
    expect(ok.stdout).toMatch(new RegExp(`^ok: ${entries} entries`));
    expect(ok.code).toBe(0);

    // Change one character inside the canonical JSON of entry 42.
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"kind":"entry"') && l.includes('"sequence":42,'));
    const changed = lines[at].replace('application/json\\"', 'application/jsoN\\"');
    expect(changed).not.toBe(lines[at]);
    lines[at] = changed;
    const tampered = path.join(dir, 'tampered.ndjson');
    fs.writeFileSync(tampered, lines.join('\n'));
    const bad = await palisade(['audit', 'verify', '--file', tampered, '--public-key', keyFile]);
    expect(bad.stderr).toMatch(/^FAILED at sequence 42 \(checksum_mismatch\)/);
    expect(bad.code).toBe(1);

    // Another key: nothing in the file can make it trusted.
    const otherKey = path.join(dir, 'other.pub.pem');
    fs.writeFileSync(otherKey, ed25519().publicKey.export({ format: 'pem', type: 'spki' }).toString());
    const wrongKey = await palisade(['audit', 'verify', '--file', file, '--public-key', otherKey]);
    expect(wrongKey.stderr).toMatch(/FAILED at sequence \d+ \(checkpoint_unknown_key\)/);
    expect(wrongKey.code).toBe(1);
  });

  it('reports a query column changed in the database at its entry, in one thread and in worker threads', async () => {
    const publicKeys = keyRing([createPublicKey(fs.readFileSync(keyFile, 'utf8'))]);
    const checkpoints = await readCheckpoints(h.db);
    const source = {
      database: { url: h.database.url, schema: AUDIT.schema },
      db: h.db,
      lastSequence: (await loadHead(h.db)).sequence,
    };
    const changes = [
      sql`org_id = org_id || 'é'`,
      sql`subject = subject || '"'`,
      sql`actor = 'user:someone-else'`,
      sql`event_time = event_time + interval '1 millisecond'`,
      sql`event_id = gen_random_uuid()`,
    ];
    for (const [i, change] of changes.entries()) {
      const sequence = 5 + 7 * i;
      await sql`alter table audit_log disable trigger audit_log_append_only`.execute(h.db);
      await sql`create table saved_entry as select * from audit_log where sequence = ${sequence}`.execute(
        h.db,
      );
      await sql`update audit_log set ${change} where sequence = ${sequence}`.execute(h.db);
      try {
        const serial = verifyLog(await readEntries(h.db, 0, 1e9), { publicKeys, checkpoints });
        expect(serial).toMatchObject({ ok: false, sequence, code: 'entry_mismatch' });
        for (const threads of [1, 3])
          expect(await verifyRanges(source, { publicKeys, checkpoints, threads, rangeSize: 8 })).toEqual(
            serial,
          );
      } finally {
        await sql`update audit_log l set event_id = s.event_id, event_time = s.event_time, org_id = s.org_id,
                  actor = s.actor, subject = s.subject from saved_entry s where l.sequence = s.sequence`.execute(
          h.db,
        );
        await sql`drop table saved_entry`.execute(h.db);
        await sql`alter table audit_log enable trigger audit_log_append_only`.execute(h.db);
      }
    }
    expect(await verifyRanges(source, { publicKeys, checkpoints, threads: 3, rangeSize: 8 })).toMatchObject({
      ok: true,
    });
  });

  it('reads each range in key order from the primary key, never through a sort', async () => {
    const plan = await h.db.transaction().execute(async (trx) => {
      for (const [name, value] of Object.entries(RANGE_READ_SETTINGS))
        await sql`select set_config(${name}, ${value}, true)`.execute(trx);
      const { rows } = await sql<{ 'QUERY PLAN': string }>`explain ${sql.raw(rangeQuery(17, 16))}`.execute(
        trx,
      );
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(/Index Scan using audit_log_pkey/);
    expect(plan).not.toMatch(/Sort/);
  });

  /** Two probe entries (they have a note to change) in the middle of the log. */
  let altered: [number, number];

  it('reports the first bad sequence of a log altered in the database by a superuser', async () => {
    const { rows } = await sql<{ sequence: number }>`
      select sequence from audit_log where canonical like '%"note":"note%' order by sequence offset 25 limit 2`.execute(
      h.db,
    );
    altered = [rows[0].sequence, rows[1].sequence];
    await sql`alter table audit_log disable trigger audit_log_append_only`.execute(h.db);
    await sql`update audit_log set canonical = replace(canonical, '"note":"note', '"note":"NOTE') where sequence = any(${altered})`.execute(
      h.db,
    );
    await sql`alter table audit_log enable trigger audit_log_append_only`.execute(h.db);
    const run = await verifyDb();
    expect(run.stderr).toMatch(
      new RegExp(
        `^FAILED at sequence ${altered[0]} \\(checksum_mismatch\\): the canonical JSON does not match`,
      ),
    );
    expect(run.code).toBe(1);
    const threaded = await verifyDb('--threads', '2');
    expect(threaded.stderr).toBe(run.stderr);
    expect(threaded.code).toBe(1);
  });

  it('worker threads reading their own ranges from Postgres reach the serial verdict, row deleted or not', async () => {
    const publicKeys = keyRing([createPublicKey(fs.readFileSync(keyFile, 'utf8'))]);
    const checkpoints = await readCheckpoints(h.db);
    const compare = async () => {
      const serial = verifyLog(await readEntries(h.db, 0, 1e9), { publicKeys, checkpoints });
      const source = {
        database: { url: h.database.url, schema: AUDIT.schema },
        db: h.db,
        lastSequence: (await loadHead(h.db)).sequence,
      };
      // Ranges of 8 entries, spread over this thread and two workers.
      const threaded = await verifyRanges(source, { publicKeys, checkpoints, threads: 3, rangeSize: 8 });
      expect(threaded).toEqual(serial);
      return serial;
    };
    expect(await compare()).toMatchObject({ ok: false, sequence: altered[0], code: 'checksum_mismatch' });
    await sql`alter table audit_log disable trigger audit_log_append_only`.execute(h.db);
    await sql`delete from audit_log where sequence in (17, 18)`.execute(h.db);
    await sql`alter table audit_log enable trigger audit_log_append_only`.execute(h.db);
    expect(await compare()).toMatchObject({ ok: false, sequence: 17, code: 'sequence_gap' });
  });

  it('answers usage errors with exit code 2 and a sentence', async () => {
    const noKey = await palisade(['audit', 'verify', '--database-url', h.database.url]);
    const badThreads = await verifyDb('--threads', 'lots');
    expect(badThreads.code).toBe(2);
    expect(badThreads.stderr).toMatch(/--threads must be a whole number/);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/needs --public-key/);
    const badKey = await palisade(['audit', 'verify', '--file', keyFile, '--public-key', 'bm90IGEga2V5']);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toMatch(/must be an Ed25519 public key/);
    const unknown = await palisade(['audit', 'frobnicate']);
    expect(unknown.code).toBe(2);
  });
});
