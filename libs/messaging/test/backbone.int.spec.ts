import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { v7 as uuidv7 } from 'uuid';
import { EventEnvelope } from '@palisade/contracts';
import { ConcurrencyConflictError, executeCommand, outboxBacklog } from '@palisade/persistence';
import { sql } from 'kysely';
import { DurableConsumer, EventHandlerContext } from '../src/durable-consumer';
import { OutboxRelay } from '../src/outbox-relay';
import { serveReplay } from '../src/replay';
import { testDatabase, waitFor } from '@palisade/testing';
import { accountDecider, ledgerContext, setUpLedger, ledgerConsumer, ledgerRelay } from './ledger.fixture';

/** Backbone, end to end, on the shared nats-server and Postgres of this test run. */
describe('backbone: append → outbox → JetStream → consumer → projection', () => {
  const ledger = ledgerContext();
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let env: Awaited<ReturnType<typeof setUpLedger>>;
  let relay: OutboxRelay;
  let consumer: DurableConsumer;
  const applied: EventEnvelope[] = [];
  let failOn: (event: EventEnvelope) => boolean = () => false;

  async function project(event: EventEnvelope, ctx: EventHandlerContext): Promise<void> {
    if (failOn(event)) throw new Error('projection refused this event');
    const data = event.data as { accountId: string; amount?: number };
    await sql`
      insert into balances (account_id, balance, entries) values (${data.accountId}, ${data.amount ?? 0}, ${data.amount === undefined ? 0 : 1})
      on conflict (account_id) do update
        set balance = balances.balance + excluded.balance, entries = balances.entries + excluded.entries`.execute(
      ctx.trx,
    );
    applied.push(event);
  }

  beforeAll(async () => {
    database = await testDatabase();
    env = await setUpLedger(ledger, database.url, process.env.NATS_URL!);
    relay = ledgerRelay(ledger, env);
    await relay.start();
    env.store.onCommitted((publications) => relay.committed(publications));
    consumer = ledgerConsumer(ledger, env, 'balances', {
      handle: project,
      maxDeliver: 3,
      retryDelayMs: () => 20,
    });
    await consumer.start();
  });

  afterAll(async () => {
    await consumer?.stop();
    await relay?.stop();
    await env?.close();
    await database?.drop();
  });

  async function balance(accountId: string) {
    return env.consumerDb
      .selectFrom('balances')
      .selectAll()
      .where('account_id', '=', accountId)
      .executeTakeFirst();
  }

  function command(accountId: string, cmd: Parameters<typeof accountDecider.decide>[1]) {
    return executeCommand(env.producerDb, env.store, {
      streamId: `account/${accountId}`,
      decider: accountDecider,
      command: cmd,
      metadata: { orgId: 'org-a', actor: 'user:tester' },
      conflictRetries: 5,
    });
  }

  it('applies every committed event once, in the consumer schema', async () => {
    await command('acc-1', { kind: 'open', accountId: 'acc-1' });
    const amounts = [5, -2, 40, 7, 1];
    for (const amount of amounts) await command('acc-1', { kind: 'record', accountId: 'acc-1', amount });
    const row = await waitFor(
      async () => (await balance('acc-1'))?.entries === amounts.length && balance('acc-1'),
      {
        description: 'balance of acc-1 projected',
      },
    );
    expect(row).toMatchObject({ balance: 51, entries: 5 });
    const inbox = await env.consumerDb
      .selectFrom('inbox')
      .select(sql<number>`count(*)`.as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(inbox.n)).toBe(6);
    // The producer's sequence is gap-free and follows commit order.
    const sequences = applied
      .filter((e) => (e.data as { accountId: string }).accountId === 'acc-1')
      .map((e) => e.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    // The acknowledged watermark is written lazily once the relay is idle.
    await waitFor(async () => (await outboxBacklog(env.producerDb)).unpublished === 0, {
      description: 'watermark recorded',
    });
    expect(await outboxBacklog(env.producerDb)).toEqual({ unsequenced: 0, unpublished: 0 });
  });

  it('carries the envelope of the contract: ids, type, subject, actor, correlation', async () => {
    const result = await command('acc-2', { kind: 'open', accountId: 'acc-2' });
    const id = result.events[0].envelope.id;
    const seen = await waitFor(() => applied.find((e) => e.id === id), {
      description: 'acc-2 opening consumed',
    });
    expect(seen).toMatchObject({
      specversion: '1.0',
      type: ledger.accountOpened.type,
      source: ledger.context.source,
      subject: 'account/acc-2',
      orgid: 'org-a',
      actor: 'user:tester',
      correlationid: id,
    });
    expect(seen.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('lets exactly one of two racing writers append; the other gets the typed conflict', async () => {
    await command('acc-3', { kind: 'open', accountId: 'acc-3' });
    const writers = Array.from({ length: 16 }, (_, i) =>
      env.producerDb.transaction().execute((trx) =>
        env.store.append(trx, {
          streamId: 'account/acc-3',
          expectedVersion: 1,
          events: [{ type: 'entry.recorded', data: { accountId: 'acc-3', amount: i + 1 } }],
          metadata: { orgId: 'org-a', actor: 'user:tester' },
        }),
      ),
    );
    const outcomes = await Promise.allSettled(writers);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(15);
    for (const loss of lost) expect(loss.reason).toBeInstanceOf(ConcurrencyConflictError);
    const stream = await env.store.readStream(env.producerDb, 'account/acc-3');
    expect(stream.map((s) => s.version)).toEqual([1, 2]);
  });

  it('never lets a transaction that lost the race leave events behind', async () => {
    await command('acc-4', { kind: 'open', accountId: 'acc-4' });
    // Both transactions read version 1; the second blocks on the first's row lock, then loses.
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstAppended!: () => void;
    const appended = new Promise<void>((resolve) => (firstAppended = resolve));
    const append = (
      trx: Parameters<Parameters<ReturnType<typeof env.producerDb.transaction>['execute']>[0]>[0],
      amount: number,
    ) =>
      env.store.append(trx, {
        streamId: 'account/acc-4',
        expectedVersion: 1,
        events: [{ type: 'entry.recorded', data: { accountId: 'acc-4', amount } }],
        metadata: { orgId: 'org-a', actor: 'user:tester' },
      });
    const first = env.producerDb.transaction().execute(async (trx) => {
      await append(trx, 1);
      firstAppended();
      await firstHolds;
    });
    await appended;
    const second = env.producerDb.transaction().execute((trx) => append(trx, 2));
    releaseFirst();
    await first;
    await expect(second).rejects.toBeInstanceOf(ConcurrencyConflictError);
    const stream = await env.store.readStream(env.producerDb, 'account/acc-4');
    expect(stream.map((s) => (s.event.data as { amount?: number }).amount)).toEqual([undefined, 1]);
  });

  it('dead-letters a poison event after bounded redelivery without holding the others', async () => {
    await command('acc-5', { kind: 'open', accountId: 'acc-5' });
    failOn = (event) => (event.data as { amount?: number }).amount === 666;
    await command('acc-5', { kind: 'record', accountId: 'acc-5', amount: 666 });
    await command('acc-5', { kind: 'record', accountId: 'acc-5', amount: 1 });
    await command('acc-5', { kind: 'record', accountId: 'acc-5', amount: 2 });
    // The good events behind the poison one are applied.
    await waitFor(async () => (await balance('acc-5'))?.entries === 2, {
      description: 'acc-5 good entries applied',
    });
    const dlq = await waitFor(
      async () => {
        const info = await env.jsm.streams.info(ledger.consumerContext.deadLetterStream);
        return info.state.messages >= 1 && info;
      },
      { description: 'poison event in the dead-letter stream' },
    );
    expect(dlq.state.messages).toBe(1);
    const dead = await env.jsm.streams.getMessage(ledger.consumerContext.deadLetterStream, {
      seq: dlq.state.first_seq,
    });
    expect(dead.header.get('Palisade-Dlq-Code')).toBe('handler_failed');
    expect(dead.header.get('Palisade-Dlq-Deliveries')).toBe('3');
    expect(dead.header.get('Palisade-Dlq-Reason')).toContain('projection refused this event');
    expect(JSON.parse(new TextDecoder().decode(dead.data)).data.amount).toBe(666);
    expect(await balance('acc-5')).toMatchObject({ balance: 3, entries: 2 });
    failOn = () => false;
  });

  it('recovers an event the transport lost by asking the producer to replay it', async () => {
    const responder = serveReplay(env.nc, ledger.context, env.producerDb);
    const gapConsumer = ledgerConsumer(ledger, env, 'gaps', {
      handle: async (event, ctx) => {
        await sql`insert into balances (account_id, balance, entries) values (${'gap:' + event.id}, ${event.sequence}, 0)`.execute(
          ctx.trx,
        );
      },
      gapCheck: { producer: ledger.context.context, intervalMs: 60_000, graceMs: 20 },
    });
    try {
      await command('acc-6', { kind: 'open', accountId: 'acc-6' });
      const lost = await command('acc-6', { kind: 'record', accountId: 'acc-6', amount: 3 });
      await command('acc-6', { kind: 'record', accountId: 'acc-6', amount: 4 });
      await waitFor(async () => (await balance('acc-6'))?.entries === 2, { description: 'acc-6 published' });
      // Simulate JetStream losing an acknowledged message (Jepsen, lazy fsync): delete it.
      const lostId = lost.events[0].envelope.id;
      const info = await env.jsm.streams.info(ledger.context.stream);
      let deleted = false;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && !deleted; seq++) {
        const m = await env.jsm.streams.getMessage(ledger.context.stream, { seq }).catch(() => undefined);
        if (m && new TextDecoder().decode(m.data).includes(lostId))
          deleted = await env.jsm.streams.deleteMessage(ledger.context.stream, seq);
      }
      expect(deleted).toBe(true);
      await gapConsumer.start();
      const total = (await env.jsm.streams.info(ledger.context.stream)).state.messages;
      // Everything still on the stream arrives; the hole it leaves makes the consumer replay it.
      await waitFor(
        () =>
          env.consumerDb
            .selectFrom('balances')
            .selectAll()
            .where('account_id', '=', `gap:${lostId}`)
            .executeTakeFirst(),
        { description: 'the lost event recovered by replay' },
      );
      await waitFor(() => gapConsumer.status().applied === total + 1, { description: 'stream consumed' });
      // Nothing is missing below the head any more, and nothing is applied twice.
      expect(await gapConsumer.checkGaps()).toBe(0);
      const gapRows = await env.consumerDb
        .selectFrom('balances')
        .select(sql<number>`count(*)`.as('n'))
        .where('account_id', 'like', 'gap:%')
        .executeTakeFirstOrThrow();
      expect(Number(gapRows.n)).toBe(total + 1);
    } finally {
      await gapConsumer.stop();
      responder.unsubscribe();
    }
  });

  it('says once that the gap check fails while the producer is away, and once that it works again', async () => {
    const said: string[] = [];
    const note = (level: string) => (_: object, msg?: string) => said.push(`${level}: ${msg}`);
    const logger = { debug: note('debug'), info: note('info'), warn: note('warn'), error: note('error') };
    const quiet = ledgerConsumer(ledger, env, 'quiet-gaps', {
      handle: async () => undefined,
      gapCheck: { producer: ledger.context.context, intervalMs: 60_000, replayTimeoutMs: 500 },
      logger,
    });
    await quiet.start();
    try {
      // No replay responder: every round fails.
      for (let i = 0; i < 3; i++) await quiet.checkGaps();
      expect(said.filter((line) => line.includes('gap check'))).toEqual([
        'warn: gap check failed; retrying quietly until it works again',
      ]);
      const responder = serveReplay(env.nc, ledger.context, env.producerDb);
      try {
        await quiet.checkGaps();
        await quiet.checkGaps();
      } finally {
        responder.unsubscribe();
      }
      expect(said.filter((line) => line.includes('gap check'))).toEqual([
        'warn: gap check failed; retrying quietly until it works again',
        'info: gap check works again',
      ]);
    } finally {
      await quiet.stop();
    }
  });

  it('dead-letters hostile messages (fast-check) with a decode error code and keeps consuming', async () => {
    const deadLetters = async () =>
      (await env.jsm.streams.info(ledger.consumerContext.deadLetterStream)).state;
    const before = await deadLetters();
    const subject = ledger.entryRecorded.subject('org-a');
    const envelope = (data: unknown) => ({
      specversion: '1.0',
      id: uuidv7(),
      source: `/palisade/${ledger.context.context}`,
      type: ledger.entryRecorded.type,
      subject: 'account/hostile',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data,
      orgid: 'org-a',
      actor: 'user:mallory',
      correlationid: uuidv7(),
      sequence: 1,
    });
    const encode = (value: unknown) =>
      new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
    const hostile = fc.sample(
      fc.oneof(
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.string({ maxLength: 200 }).map(encode),
        fc.jsonValue({ maxDepth: 3 }).map(encode),
        // A well-formed envelope whose payload is not an entry: wrong types, missing or extra fields.
        fc
          .oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.integer()))
          .map((d) => encode(envelope(d))),
        fc
          .record({
            accountId: fc.oneof(fc.integer(), fc.constant(''), fc.string({ minLength: 65 })),
            amount: fc.double(),
          })
          .map((d) => encode(envelope(d))),
        fc
          .record({ accountId: fc.constant('a'), amount: fc.integer(), extra: fc.string() })
          .map((d) => encode(envelope(d))),
        // A valid payload in an envelope with one required attribute removed.
        fc.constantFrom('specversion', 'id', 'source', 'type', 'time', 'orgid').map((field) => {
          const e: Record<string, unknown> = envelope({ accountId: 'a', amount: 1 });
          delete e[field];
          return encode(e);
        }),
      ),
      { numRuns: 40, seed: 20261125 },
    );
    for (const data of hostile) await env.js.publish(subject, data, { msgID: randomUUID() });
    await command('acc-h', { kind: 'open', accountId: 'acc-h' });
    await command('acc-h', { kind: 'record', accountId: 'acc-h', amount: 9 });
    await waitFor(async () => (await balance('acc-h'))?.entries === 1, {
      description: 'good events after the hostile ones',
    });
    const after = await waitFor(
      async () => {
        const state = await deadLetters();
        return state.messages >= before.messages + hostile.length && state;
      },
      { description: 'every hostile message dead-lettered' },
    );
    expect(after.messages).toBe(before.messages + hostile.length);
    const codes = new Set<string>();
    for (let seq = before.last_seq + 1; seq <= after.last_seq; seq++) {
      const dead = await env.jsm.streams.getMessage(ledger.consumerContext.deadLetterStream, { seq });
      codes.add(dead.header.get('Palisade-Dlq-Code'));
      expect(dead.header.get('Palisade-Dlq-Reason').length).toBeGreaterThan(0);
    }
    expect(
      [...codes].every((c) => ['not_json', 'invalid_envelope', 'invalid_event_payload'].includes(c)),
    ).toBe(true);
    expect([...codes]).toContain('invalid_event_payload');
    expect(consumer.status()).toMatchObject({ running: true });
    expect(await balance('acc-h')).toMatchObject({ balance: 9, entries: 1 });
  });
});

describe('outbox relay leadership', () => {
  it('has one leader per schema; a commit on another replica wakes it through NOTIFY, not polling', async () => {
    const ledger = ledgerContext();
    const database = await testDatabase();
    const env = await setUpLedger(ledger, database.url, process.env.NATS_URL!);
    const leader = ledgerRelay(ledger, env, { pollIntervalMs: 600_000 });
    const replica = ledgerRelay(ledger, env, { pollIntervalMs: 600_000 });
    try {
      await leader.start();
      await replica.start();
      expect([leader.status().leader, replica.status().leader]).toEqual([true, false]);
      // This "replica" commits; only its non-leading relay hears about it.
      env.store.onCommitted((publications) => replica.committed(publications));
      await executeCommand(env.producerDb, env.store, {
        streamId: 'account/replicated',
        decider: accountDecider,
        command: { kind: 'open', accountId: 'replicated' },
        metadata: { orgId: 'org-r', actor: 'system' },
      });
      // Polling is 10 minutes away: only the notification can have woken the leader. Its count
      // moves when JetStream's acknowledgement arrives, after the stream has stored the event.
      await waitFor(() => leader.status().published >= 1, { description: 'event relayed by the leader' });
      expect(leader.status().published).toBe(1);
      expect((await env.jsm.streams.info(ledger.context.stream)).state.messages).toBe(1);
      expect(replica.status().published).toBe(0);
      await leader.stop();
      // The leader goes away: told by its NOTIFY, the replica takes the lock at once (its
      // election timer is a second away) and relays the next commit.
      await waitFor(() => replica.status().leader, {
        description: 'replica to become leader',
        timeoutMs: 900,
      });
      await executeCommand(env.producerDb, env.store, {
        streamId: 'account/after-failover',
        decider: accountDecider,
        command: { kind: 'open', accountId: 'after-failover' },
        metadata: { orgId: 'org-r', actor: 'system' },
      });
      await waitFor(() => replica.status().published >= 1, {
        description: 'event relayed by the new leader',
      });
      expect(replica.status().published).toBe(1);
      expect((await env.jsm.streams.info(ledger.context.stream)).state.messages).toBe(2);
      expect(leader.status().published).toBe(1);
    } finally {
      await replica.stop();
      await leader.stop();
      await env.close();
      await database.drop();
    }
  });
});
