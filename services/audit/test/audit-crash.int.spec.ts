import path from 'node:path';
import { checkpointSigned, IDENTITY, PLACEMENT } from '@palisade/contracts';
import { connect, NatsConnection } from 'nats';
import { runTsChild, TsChild, uniqueId, waitFor } from '@palisade/testing';
import { sql } from 'kysely';
import { AuditHarness, startAuditHarness } from './audit-harness';

describe('audit consumer crash in the middle of a batch, with events the transport lost', () => {
  let h: AuditHarness;
  let child: TsChild | undefined;
  let nc: NatsConnection;

  beforeAll(async () => {
    // Producers in this process; the audit service runs in a child process we can kill.
    h = await startAuditHarness({}, { audit: false });
    nc = await connect({ servers: h.nats.url });
  });
  afterAll(async () => {
    child?.process.kill('SIGKILL');
    await child?.exited;
    await nc?.close();
    await h?.stop();
  });

  const startAudit = () =>
    runTsChild(path.join(__dirname, 'audit-crash.child.ts'), {
      ...h.env,
      // Big batches: a kill lands inside one.
      AUDIT_CHECKPOINT_EVERY: '200',
    });

  /** An audit transaction that has written but not committed. */
  const auditTransactionOpen = async () => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int8 as n from pg_stat_activity
      where datname = current_database() and application_name = 'palisade-audit'
        and xact_start is not null and state <> 'idle'`.execute(h.db);
    return rows[0].n > 0;
  };

  it('loses nothing (replaying what the transport dropped), duplicates nothing, and the chain verifies after restart', async () => {
    const org = uniqueId('org');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(...(await h.emitMany('identity', org, 1000)));
    ids.push(...(await h.emitMany('placement', org, 1000)));

    // The transport loses some events (JetStream's lazy fsync can, see ARCHITECTURE.md): the audit
    // service must get them from the producers' event stores by replay.
    const jsm = await nc.jetstreamManager();
    await waitFor(
      async () =>
        (await jsm.streams.info(IDENTITY.stream)).state.last_seq === 3000 &&
        (await jsm.streams.info(PLACEMENT.stream)).state.last_seq === 1000,
      { description: 'every event published by the producers', timeoutMs: 30_000 },
    );
    for (const seq of [2, 1500, 2999])
      expect(await jsm.streams.deleteMessage(IDENTITY.stream, seq)).toBe(true);
    expect(await jsm.streams.deleteMessage(PLACEMENT.stream, 500)).toBe(true);

    child = startAudit();
    // Kill it while a batch transaction is open, after at least one batch committed.
    await waitFor(
      async () => {
        if (child!.process.exitCode !== null) throw new Error(`audit child exited: ${child!.output()}`);
        return (await h.count(`org_id = '${org}'`)) > 0 && (await auditTransactionOpen());
      },
      { description: 'the audit child in the middle of a batch', timeoutMs: 30_000, intervalMs: 1 },
    );
    child.process.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');
    const atCrash = await h.count(`org_id = '${org}'`);
    expect(atCrash).toBeLessThan(ids.length);

    child = startAudit();
    // Messages the dead process had pulled come back after the consumer's ack wait (30 s).
    await waitFor(async () => (await h.count(`org_id = '${org}'`)) === ids.length, {
      description: 'every event audited after the restart',
      timeoutMs: 90_000,
      intervalMs: 200,
    });
    const { rows } = await sql<{ producer: string; n: number; distinct_ids: number; lo: number; hi: number }>`
      select producer, count(*)::int8 as n, count(distinct event_id)::int8 as distinct_ids,
             min(producer_sequence) as lo, max(producer_sequence) as hi
      from audit_log where org_id = ${org} group by producer order by producer`.execute(h.db);
    expect(rows).toEqual([
      { producer: 'identity', n: 3000, distinct_ids: 3000, lo: 1, hi: 3000 },
      { producer: 'placement', n: 1000, distinct_ids: 1000, lo: 1, hi: 1000 },
    ]);
    await waitFor(async () => (await h.count(`type = '${checkpointSigned.type}'`)) > 0, {
      description: 'checkpoints in the log',
    });
    const result = await h.verify();
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.checkpointsVerified).toBeGreaterThan(0);
  }, 150_000);
});
