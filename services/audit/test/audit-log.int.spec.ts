import { AUDIT, checkpointSigned, IDENTITY } from '@palisade/contracts';
import { uniqueId, waitFor } from '@palisade/testing';
import { sql } from 'kysely';
import { connect, JSONCodec, NatsConnection } from 'nats';
import { AUDIT_APPENDER_ROLE } from '../migrations';
import {
  checkpointSignatureValid,
  keyRing,
  leafHash,
  parsePublicKey,
  SignedCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from '../src/domain';
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
    // published as an audit event, which lands in the log too; a second round, a second one.
    await waitFor(() => h.settled(), { description: 'the log checkpointed' });
    await h.emitCheckpointed('placement', org, 12);
    expect(await h.count(`type = '${checkpointSigned.type}'`)).toBeGreaterThanOrEqual(2);
    const result = await h.verify();
    expect(result).toMatchObject({ ok: true });
    expect(result.ok && result.checkpointsVerified).toBeGreaterThanOrEqual(2);
  });

  it('signs a checkpoint on the timer when entries arrived, and then stays quiet', async () => {
    const id = await h.emit('identity', uniqueId('org'));
    await waitFor(async () => (await h.count(`event_id = '${id}'`)) === 1, {
      description: 'the new event audited',
    });
    // Covered: the newest checkpoint reaches every entry but checkpoint events, and its own
    // checkpoint event has landed in the log.
    const covered = async () => {
      const { rows } = await sql<{
        size: number | null;
      }>`select max(tree_size) as size from audit_checkpoints`.execute(h.db);
      const size = rows[0].size;
      return (
        size !== null &&
        (await h.count(`sequence > ${size} and type <> '${checkpointSigned.type}'`)) === 0 &&
        (await h.count(`subject = 'checkpoint/${size}'`)) === 1
      );
    };
    await waitFor(covered, { description: 'a timed checkpoint covering the new entry', timeoutMs: 10_000 });
    const before = await h.count();
    // An idle log does not checkpoint its own checkpoint events: the count stays put.
    expect(await h.log!.checkpointNow()).toBeUndefined();
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

describe('audit proofs over HTTP: public key, checkpoints, inclusion and consistency', () => {
  let h: AuditHarness;
  beforeAll(async () => {
    h = await startAuditHarness({ AUDIT_CHECKPOINT_EVERY: '7' });
    const org = uniqueId('org');
    // Five rounds, each checkpointed before the next: at least five checkpoints.
    for (let i = 0; i < 5; i++) await h.emitCheckpointed(i % 2 ? 'identity' : 'placement', org, 9);
  });
  afterAll(() => h?.stop());

  const get = async (path: string) => {
    const response = await fetch(`${h.running.url}/v1/audit/${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('serves the public key, and every checkpoint verifies under it', async () => {
    const key = (await get('public-key')).body as { keyId: string; publicKey: string; pem: string };
    expect(key).toMatchObject({ algorithm: 'Ed25519', keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const ring = keyRing([parsePublicKey(key.publicKey)]);
    expect(keyRing([parsePublicKey(key.pem)]).has(key.keyId)).toBe(true);
    const { items } = (await get('checkpoints')).body as { items: SignedCheckpoint[] };
    expect(items.length).toBeGreaterThanOrEqual(3);
    for (const checkpoint of items) expect(checkpointSignatureValid(checkpoint, ring)).toBe('valid');
    expect((await get('checkpoints/latest')).body).toEqual(items[items.length - 1]);
    const page = (await get(`checkpoints?after=${items[0].treeSize}&limit=1`)).body as {
      items: SignedCheckpoint[];
    };
    expect(page.items).toEqual([items[1]]);
  });

  it('every entry has an inclusion proof that verifies against a signed root', async () => {
    const { items } = (await get('checkpoints')).body as { items: SignedCheckpoint[] };
    const latest = items[items.length - 1];
    for (let sequence = 1; sequence <= latest.treeSize; sequence++) {
      const { status, body } = await get(`proofs/inclusion?sequence=${sequence}`);
      expect(status).toBe(200);
      const proof = body as unknown as {
        entryHash: string;
        path: string[];
        treeSize: number;
        rootHash: string;
      };
      expect(proof.rootHash).toBe(latest.rootHash);
      const ok = verifyInclusion(
        leafHash(Buffer.from(proof.entryHash, 'hex')),
        sequence - 1,
        proof.treeSize,
        proof.path.map((p) => Buffer.from(p, 'hex')),
        Buffer.from(latest.rootHash, 'hex'),
      );
      expect(ok).toBe(true);
    }
    // Against an older checkpoint too.
    const older = items[0];
    const { body } = await get(`proofs/inclusion?sequence=1&treeSize=${older.treeSize}`);
    expect((body as { rootHash: string }).rootHash).toBe(older.rootHash);
  });

  it('consecutive and distant checkpoints have consistency proofs that verify', async () => {
    const { items } = (await get('checkpoints')).body as { items: SignedCheckpoint[] };
    for (const [a, b] of [
      [items[0], items[1]],
      [items[0], items[items.length - 1]],
      [items[1], items[items.length - 1]],
    ]) {
      const { status, body } = await get(`proofs/consistency?from=${a.treeSize}&to=${b.treeSize}`);
      expect(status).toBe(200);
      const proof = (body as { proof: string[] }).proof.map((p) => Buffer.from(p, 'hex'));
      expect(
        verifyConsistency(
          a.treeSize,
          b.treeSize,
          Buffer.from(a.rootHash, 'hex'),
          Buffer.from(b.rootHash, 'hex'),
          proof,
        ),
      ).toBe(true);
    }
  });

  it('documents the audit endpoints and their parameters in the OpenAPI document', async () => {
    const openapi = (await (await fetch(`${h.running.url}/docs/openapi.json`)).json()) as {
      paths: Record<string, { get: { parameters?: { name: string }[] } }>;
    };
    const parameters = (path: string) => openapi.paths[path].get.parameters?.map((p) => p.name).sort();
    expect(parameters('/v1/audit/proofs/inclusion')).toEqual(['sequence', 'treeSize']);
    expect(parameters('/v1/audit/proofs/consistency')).toEqual(['from', 'to']);
    expect(parameters('/v1/audit/events')).toEqual(
      ['actor', 'cursor', 'from', 'limit', 'org', 'subject', 'to', 'type'].sort(),
    );
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/v1/audit/public-key', '/v1/audit/checkpoints/latest', '/v1/audit/export']),
    );
  });

  it('answers bad or impossible requests with a stable 4xx code, never a 500', async () => {
    const cases: [string, number, string][] = [
      ['proofs/inclusion?sequence=abc', 400, 'invalid_query'],
      ['proofs/inclusion?sequence=0', 400, 'invalid_query'],
      ['proofs/inclusion', 400, 'invalid_query'],
      ['proofs/inclusion?sequence=1&sequence=2', 400, 'invalid_query'],
      ['proofs/inclusion?sequence=1&evil=1', 400, 'invalid_query'],
      ['proofs/inclusion?sequence=999999', 409, 'not_checkpointed'],
      ['proofs/inclusion?sequence=1&treeSize=3', 404, 'no_checkpoint'],
      ['proofs/consistency?from=5&to=2', 400, 'invalid_query'],
      ['proofs/consistency?from=3&to=4', 404, 'no_checkpoint'],
      ['checkpoints?limit=100000', 400, 'invalid_query'],
      ['proofs/inclusion?sequence=99999999999999999999', 400, 'invalid_query'],
      // The query API needs a credential (and audit.read, decided by authorization).
      ['events', 401, 'token_missing'],
      ['export', 401, 'token_missing'],
    ];
    for (const [path, status, code] of cases) {
      const response = await get(path);
      expect({
        path,
        status: response.status,
        code: (response.body.error as { code: string })?.code,
      }).toEqual({
        path,
        status,
        code,
      });
    }
  });
});
