import fc from 'fast-check';
import { EventEnvelope } from '@palisade/contracts';
import {
  AnyDatabase,
  executeCommand,
  headSequence,
  outboxBacklog,
  Publication,
  readBySequence,
  StoredEvent,
} from '@palisade/persistence';
import { sql } from 'kysely';
import { testDatabase, waitFor } from '@palisade/testing';
import { OutboxRelay, OutboxRelayOptions } from '../src/outbox-relay';
import { accountDecider, ledgerContext, LedgerEnv, ledgerRelay, setUpLedger } from './ledger.fixture';

/**
 * The producer sequence (ARCHITECTURE.md, durability): gap-free, one per committed event, in
 * commit order, and JetStream receives the events in that order, each once. Appends outside a
 * transaction take their sequences in their own statement and reach the relay in memory; appends
 * in a caller's transaction go through the outbox; the relay reads whatever it was not told.
 */
describe('producer sequence', () => {
  const ledger = ledgerContext();
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let env: LedgerEnv;

  beforeAll(async () => {
    database = await testDatabase();
    env = await setUpLedger(ledger, database.url, process.env.NATS_URL!);
  });

  afterAll(async () => {
    await env?.close();
    await database?.drop();
  });

  let relay: OutboxRelay | undefined;

  /**
   * Starts this test's relay and tells it of every commit (through `tell`, which may delay or
   * drop notices). Polling is far away: only what the relay is told, and what it infers, moves it.
   */
  async function startRelay(
    tell: (relay: OutboxRelay, publications?: readonly Publication[]) => void = (r, p) => r.committed(p),
    options: Partial<OutboxRelayOptions> = {},
  ): Promise<OutboxRelay> {
    const started = ledgerRelay(ledger, env, { pollIntervalMs: 600_000, ...options });
    relay = started;
    env.store.onCommitted((publications) => tell(started, publications));
    await started.start();
    return started;
  }

  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
    env.store.onCommitted(() => undefined);
  });

  /** Waits until the stream holds `count` messages. */
  function untilPublished(count: number, description: string): Promise<unknown> {
    return waitFor(async () => (await env.jsm.streams.info(ledger.context.stream)).state.messages === count, {
      description,
    });
  }

  /**
   * Expects `relay` to have counted exactly `count` acknowledged events. JetStream stores an
   * event before its acknowledgement reaches the relay, so the count may trail the stream a moment.
   */
  async function expectCounted(relay: OutboxRelay, count: number): Promise<void> {
    await waitFor(() => relay.status().published >= count, {
      description: `the relay to count ${count} acknowledged events`,
    });
    expect(relay.status().published).toBe(count);
  }

  function entries(n: number, accountId: string) {
    return Array.from({ length: n }, (_, i) => ({
      type: 'entry.recorded' as const,
      data: { accountId, amount: i + 1 },
    }));
  }

  const metadata = { orgId: 'org-seq', actor: 'user:tester' };

  /** The stream's messages in JetStream order, as envelopes. */
  async function jetStreamEnvelopes(): Promise<EventEnvelope[]> {
    const { messages } = (await env.jsm.streams.info(ledger.context.stream)).state;
    const out: EventEnvelope[] = [];
    for (let seq = 1; seq <= messages; seq++) {
      const m = await env.jsm.streams.getMessage(ledger.context.stream, { seq });
      out.push(m.json<EventEnvelope>());
    }
    return out;
  }

  /** Postgres's side: sequences 1..head, each on exactly one event, and no outbox left behind. */
  async function sequencedInPostgres(): Promise<Publication[]> {
    const head = await headSequence(env.producerDb);
    const rows = await readBySequence(env.producerDb, 1, head, head + 1);
    const { rows: counts } = await sql<{ events: number; outbox: number }>`
      select (select count(*) from events)::int8 as events, (select count(*) from outbox)::int8 as outbox`.execute(
      env.producerDb,
    );
    expect(rows.map((r) => r.sequence)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(counts[0]).toEqual({ events: head, outbox: 0 });
    return rows;
  }

  type Op =
    | { kind: 'batched'; stream: number; events: number }
    | { kind: 'any'; stream: number; events: number }
    | { kind: 'transaction'; stream: number; events: number; rollback: boolean };

  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('batched' as const),
      stream: fc.nat(3),
      events: fc.integer({ min: 1, max: 3 }),
    }),
    fc.record({
      kind: fc.constant('any' as const),
      stream: fc.nat(3),
      events: fc.integer({ min: 1, max: 3 }),
    }),
    fc.record({
      kind: fc.constant('transaction' as const),
      stream: fc.nat(3),
      events: fc.integer({ min: 1, max: 3 }),
      rollback: fc.boolean(),
    }),
  );

  it('any mix of concurrent appends (batched, racing, in transactions, rolled back) is sequenced 1..n once, in memory as in Postgres, and published in that order', async () => {
    const told: Publication[] = [];
    const relay = await startRelay((r, publications) => {
      if (publications) told.push(...publications);
      r.committed(publications);
    });
    let run = 0;
    const committedIds = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 24 }), async (ops) => {
        run++;
        const streamId = (n: number) => `account/seq-${run}-${n}`;
        const outcomes = await Promise.allSettled(
          ops.map(async (o, i): Promise<StoredEvent[]> => {
            const events = entries(o.events, `${run}-${i}`);
            if (o.kind === 'transaction') {
              let trx: AnyDatabase | undefined;
              const stored = await env.producerDb.transaction().execute(async (t) => {
                trx = t;
                const appended = await env.store.append(t, {
                  streamId: streamId(o.stream),
                  expectedVersion: 'any',
                  events,
                  metadata,
                });
                if (o.rollback) throw new Error('rolled back on purpose');
                return appended;
              });
              env.store.afterCommit(trx!);
              return stored;
            }
            // Read, then append at that version: concurrent ops on one stream race for it.
            const version =
              o.kind === 'any'
                ? ('any' as const)
                : (await env.store.readStream(env.producerDb, streamId(o.stream))).length;
            return env.store.append(env.producerDb, {
              streamId: streamId(o.stream),
              expectedVersion: version,
              events,
              metadata,
            });
          }),
        );
        for (const outcome of outcomes)
          if (outcome.status === 'fulfilled')
            for (const stored of outcome.value) committedIds.add(stored.envelope.id);

        const sequenced = await sequencedInPostgres();
        // Exactly the committed events, each once.
        expect(new Set(sequenced.map((p) => p.eventId))).toEqual(committedIds);
        expect(sequenced).toHaveLength(committedIds.size);
        // What the relay was handed in memory is what Postgres holds, byte for byte.
        const bySequence = new Map(sequenced.map((p) => [p.sequence, p]));
        for (const p of told) {
          const stored = bySequence.get(p.sequence)!;
          expect({ ...p, recordedAt: 0 }).toEqual({ ...stored, recordedAt: 0 });
        }
        // Within a stream, sequences follow versions.
        const versions = new Map<string, number>();
        for (const p of sequenced) {
          const envelope = JSON.parse(p.json) as EventEnvelope;
          const { rows } = await sql<{ version: number }>`
              select version from events where event_id = ${envelope.id}`.execute(env.producerDb);
          const last = versions.get(envelope.subject ?? '') ?? 0;
          expect(rows[0].version).toBeGreaterThan(last);
          versions.set(envelope.subject ?? '', rows[0].version);
        }
        // JetStream receives them in sequence order, each once.
        await untilPublished(committedIds.size, 'every committed event published');
        const published = await jetStreamEnvelopes();
        expect(published.map((e) => e.sequence)).toEqual(sequenced.map((p) => p.sequence));
        expect(published.map((e) => e.id)).toEqual(sequenced.map((p) => p.eventId));
      }),
      { numRuns: 15 },
    );
    expect(told.length).toBeGreaterThan(0);
    await expectCounted(relay, committedIds.size);
  });

  it('publishes what it was never told and what it was told late, in order, once', async () => {
    const before = await headSequence(env.producerDb);
    let commits = 0;
    let late: readonly Publication[] | undefined;
    const relay = await startRelay((r, publications) => {
      commits++;
      // One commit in four is lost on its way to the relay (its writer died after the commit),
      // one arrives only after the commit that followed it; the others come at once.
      if (commits % 4 === 1) return;
      if (commits % 4 === 2) {
        late = publications;
        return;
      }
      r.committed(publications);
      if (late) r.committed(late);
      late = undefined;
    });
    for (let i = 0; i < 40; i++) {
      await executeCommand(env.producerDb, env.store, {
        streamId: `account/told-${i}`,
        decider: accountDecider,
        command: { kind: 'open', accountId: `told-${i}` },
        metadata,
      });
    }
    await untilPublished(before + 40, 'all 40 published');
    const published = await jetStreamEnvelopes();
    expect(published.map((e) => e.sequence)).toEqual(Array.from({ length: before + 40 }, (_, i) => i + 1));
    await expectCounted(relay, 40);
  });

  it('sequences what a transaction keeps, not what its rolled-back savepoints appended', async () => {
    const before = await headSequence(env.producerDb);
    await startRelay();
    let trx: AnyDatabase | undefined;
    const kept = await env.producerDb.transaction().execute(async (t) => {
      trx = t;
      const first = await env.store.append(t, {
        streamId: 'account/savepoints',
        expectedVersion: 0,
        events: entries(2, 'savepoints'),
        metadata,
      });
      await sql`savepoint dropped`.execute(t);
      await env.store.append(t, {
        streamId: 'account/savepoints-dropped',
        expectedVersion: 0,
        events: entries(3, 'savepoints-dropped'),
        metadata,
      });
      await sql`rollback to savepoint dropped`.execute(t);
      const last = await env.store.append(t, {
        streamId: 'account/savepoints',
        expectedVersion: 2,
        events: entries(1, 'savepoints'),
        metadata,
      });
      return [...first, ...last].map((e) => e.envelope.id);
    });
    env.store.afterCommit(trx!);
    const sequenced = (await sequencedInPostgres()).slice(before);
    expect(sequenced.map((p) => [p.eventId, p.sequence])).toEqual(kept.map((id, i) => [id, before + i + 1]));
    await untilPublished(before + 3, 'the three kept events published');
    expect((await jetStreamEnvelopes()).slice(before).map((e) => e.id)).toEqual(kept);
  });

  it('settles what is in flight when it stops: the watermark covers it, so the next leader repeats nothing', async () => {
    const before = await headSequence(env.producerDb);
    let stopping: Promise<void> | undefined;
    const relay: OutboxRelay = await startRelay(undefined, {
      // Stop as soon as the first of the four batches in flight is acknowledged.
      afterPublish: () => {
        stopping ??= relay.stop();
      },
    });
    await env.store.append(env.producerDb, {
      streamId: 'account/in-flight',
      expectedVersion: 0,
      events: entries(1000, 'in-flight'),
      metadata,
    });
    await waitFor(() => stopping !== undefined, { description: 'the relay told to stop' });
    await stopping;
    expect(relay.status().published).toBe(1000);
    expect(await outboxBacklog(env.producerDb)).toEqual({ unsequenced: 0, unpublished: 0 });
    expect((await env.jsm.streams.info(ledger.context.stream)).state.messages).toBe(before + 1000);
  });

  it('never lets an open transaction hold up other writers: its events are sequenced when it commits', async () => {
    const before = await headSequence(env.producerDb);
    await startRelay();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let appended!: () => void;
    const inside = new Promise<void>((resolve) => (appended = resolve));
    let trx: AnyDatabase | undefined;
    try {
      const open = env.producerDb.transaction().execute(async (t) => {
        trx = t;
        await env.store.append(t, {
          streamId: 'account/held-open',
          expectedVersion: 0,
          events: entries(1, 'held-open'),
          metadata,
        });
        appended();
        await held;
      });
      await inside;
      // While that transaction stays open, another writer commits and is published.
      await env.store.append(env.producerDb, {
        streamId: 'account/meanwhile',
        expectedVersion: 0,
        events: entries(2, 'meanwhile'),
        metadata,
      });
      await untilPublished(before + 2, 'the other writer published while the transaction is open');
      release();
      await open;
      env.store.afterCommit(trx!);
      await untilPublished(before + 3, 'the transaction published after its commit');
      const published = (await jetStreamEnvelopes()).slice(before);
      expect(published.map((e) => [e.subject, e.sequence])).toEqual([
        ['account/meanwhile', before + 1],
        ['account/meanwhile', before + 2],
        ['account/held-open', before + 3],
      ]);
      await sequencedInPostgres();
    } finally {
      release();
    }
  });
});
