import { AUDIT, checkpointSigned, IDENTITY } from '@palisade/contracts';
import { uniqueId, waitFor } from '@palisade/testing';
import { sql } from 'kysely';
import { connect, JSONCodec, NatsConnection } from 'nats';
import { AUDIT_APPENDER_ROLE } from '../migrations';
import { AuditHarness, startAuditHarness } from './audit-harness';

describe('audit log: every event of every context lands once, in order, append-only', () => {
  let h: AuditHarness;
  let nc: NatsConnection;

  beforeAll(async () => {
    h = await startAuditHarness();
    nc = await connect({ servers: h.nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await h?.stop();
  });

  it('appends events from several producers once each, in each producer order, and the chain verifies', async () => {
    const org = uniqueId('org');
    const ids = await Promise.all([
      ...Array.from({ length: 30 }, () => h.emit('identity', org)),
      ...Array.from({ length: 20 }, () => h.emit('placement', org)),
    ]);
    await waitFor(async () => (await h.count(`org_id = '${org}'`)) === 50, {
      description: 'all 50 events in the audit log',
      timeoutMs: 20_000,
    });
    const { rows } = await sql<{
      event_id: string;
      producer: string;
      producer_sequence: number;
      sequence: number;
    }>`
      select event_id, producer, producer_sequence, sequence from audit_log order by sequence`.execute(h.db);
    const ours = rows.filter((r) => ids.includes(r.event_id));
    expect(new Set(ours.map((r) => r.event_id)).size).toBe(50);
    // Sequence numbers are gap-free from 1, and each producer's events keep its order.
    expect(rows.map((r) => r.sequence)).toEqual(rows.map((_, i) => i + 1));
    for (const producer of ['identity', 'placement']) {
      const seqs = rows.filter((r) => r.producer === producer).map((r) => r.producer_sequence);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    // A checkpoint when a batch takes the log 10 or more past the last one (or on the timer),
    // published as an audit event, which lands in the log too.
    await waitFor(async () => (await h.count(`type = '${checkpointSigned.type}'`)) >= 2, {
      description: 'checkpoint events back in the log',
    });
    const result = await h.verify();
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.checkpointsVerified).toBeGreaterThanOrEqual(2);
  });

  it('signs a checkpoint on the timer when entries arrived, and then stays quiet', async () => {
    await h.emit('identity', uniqueId('org'));
    const covered = async () => {
      const { rows } = await sql<{ size: number; head: number }>`
        select (select max(tree_size) from audit_checkpoints) as size, (select max(sequence) from audit_log) as head`.execute(
        h.db,
      );
      // Covered when the newest checkpoint reaches every entry but its own checkpoint event.
      return (
        rows[0].size !== null &&
        rows[0].head - rows[0].size <= 1 &&
        (await h.count(`sequence > ${rows[0].size} and type <> '${checkpointSigned.type}'`)) === 0
      );
    };
    await waitFor(covered, { description: 'a timed checkpoint covering the new entry', timeoutMs: 10_000 });
    const before = await h.count();
    // An idle log does not checkpoint its own checkpoint events: the count stays put.
    expect(await h.log.checkpointNow()).toBeUndefined();
    expect(await h.count()).toBe(before);
  });

  it('a redelivered copy of an event (new message id) is not appended twice', async () => {
    const org = uniqueId('org');
    const id = await h.emit('identity', org);
    await waitFor(async () => (await h.count(`event_id = '${id}'`)) === 1, { description: 'event audited' });
    const { rows } = await sql<{
      canonical: string;
    }>`select canonical from audit_log where event_id = ${id}`.execute(h.db);
    const envelope = JSON.parse(rows[0].canonical) as { orgid: string };
    const js = nc.jetstream();
    const ack = await js.publish(
      `evt.identity.${envelope.orgid}.probe.emitted`,
      JSONCodec().encode(envelope),
      {
        msgID: `replayed-${id}`,
      },
    );
    const jsm = await nc.jetstreamManager();
    await waitFor(
      async () =>
        (await jsm.consumers.info(IDENTITY.stream, 'audit-log-identity')).ack_floor.stream_seq >= ack.seq,
      { description: 'the copy consumed and acknowledged' },
    );
    expect(await h.count(`event_id = '${id}'`)).toBe(1);
    expect(await h.count(`org_id = '${org}'`)).toBe(1);
  });

  it('refuses UPDATE, DELETE and TRUNCATE by trigger, and the append role has no such grants', async () => {
    for (const statement of [
      sql`update audit_log set org_id = 'x' where sequence = 1`,
      sql`delete from audit_log where sequence = 1`,
      sql`truncate audit_log`,
      sql`update audit_checkpoints set tree_size = 1`,
      sql`delete from audit_merkle_nodes`,
    ]) {
      await expect(statement.execute(h.db)).rejects.toThrow(/append-only/);
    }
    const privileges = await sql<{ privilege: string; granted: boolean }>`
      select p as privilege, has_table_privilege(${AUDIT_APPENDER_ROLE}, ${`${AUDIT.schema}.audit_log`}, p) as granted
      from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) as p`.execute(h.db);
    expect(Object.fromEntries(privileges.rows.map((r) => [r.privilege, r.granted]))).toEqual({
      SELECT: true,
      INSERT: true,
      UPDATE: false,
      DELETE: false,
      TRUNCATE: false,
    });
    await expect(
      h.db.transaction().execute(async (trx) => {
        await sql`set local role ${sql.raw(AUDIT_APPENDER_ROLE)}`.execute(trx);
        await sql`update audit_log set org_id = 'x' where sequence = 1`.execute(trx);
      }),
    ).rejects.toThrow(/permission denied/);
    expect((await h.verify()).ok).toBe(true);
  });
});
