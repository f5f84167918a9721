import path from 'node:path';
import { EventEnvelope } from '@palisade/contracts';
import { executeCommand, outboxBacklog } from '@palisade/persistence';
import { sql } from 'kysely';
import { OutboxRelay } from '../src/outbox-relay';
import { privateNats, runTsChild, testDatabase, waitFor } from '@palisade/testing';
import {
  accountDecider,
  AccountCommand,
  ledgerContext,
  setUpLedger,
  ledgerConsumer,
  ledgerRelay,
} from './ledger.fixture';

type Env = Awaited<ReturnType<typeof setUpLedger>>;

function commandOn(env: Env) {
  return (accountId: string, command: AccountCommand) =>
    executeCommand(env.producerDb, env.store, {
      streamId: `account/${accountId}`,
      decider: accountDecider,
      command,
      metadata: { orgId: 'org-d', actor: 'service:test' },
    });
}

/** A consumer that counts how often each event id reached the handler (effects in its schema). */
function countingConsumer(ledger: ReturnType<typeof ledgerContext>, env: Env, seen: Map<string, number>) {
  return ledgerConsumer(ledger, env, 'count', {
    handle: async (event: EventEnvelope, ctx) => {
      const data = event.data as { accountId: string; amount?: number };
      await sql`
        insert into balances (account_id, balance, entries) values (${data.accountId}, ${data.amount ?? 0}, ${data.amount === undefined ? 0 : 1})
        on conflict (account_id) do update set balance = balances.balance + excluded.balance, entries = balances.entries + excluded.entries`.execute(
        ctx.trx,
      );
      seen.set(event.id, (seen.get(event.id) ?? 0) + 1);
    },
  });
}

describe('durability of the backbone', () => {
  it('publishes once after the relay dies between commit and publish-mark; consumers apply each event once', async () => {
    const ledger = ledgerContext();
    const database = await testDatabase();
    const env = await setUpLedger(ledger, database.url, process.env.NATS_URL!);
    const seen = new Map<string, number>();
    const consumer = countingConsumer(ledger, env, seen);
    let relay: OutboxRelay | undefined;
    try {
      const command = commandOn(env);
      await command('crash', { kind: 'open', accountId: 'crash' });
      for (let i = 1; i <= 9; i++) await command('crash', { kind: 'record', accountId: 'crash', amount: i });

      const child = runTsChild(path.join(__dirname, 'relay-crash.child.ts'), {
        DATABASE_URL: database.url,
        NATS_URL: process.env.NATS_URL!,
        SCHEMA: ledger.context.schema,
        STREAM: ledger.context.stream,
      });
      const exit = await child.exited;
      expect(exit.signal).toBe('SIGKILL');
      // JetStream has the batch, the outbox does not know it: sequenced, not marked published.
      expect((await env.jsm.streams.info(ledger.context.stream)).state.messages).toBe(10);
      expect(await outboxBacklog(env.producerDb)).toEqual({ unsequenced: 0, unpublished: 10 });

      relay = ledgerRelay(ledger, env);
      await relay.start();
      env.store.onCommitted((publications) => relay!.committed(publications));
      await waitFor(async () => (await outboxBacklog(env.producerDb)).unpublished === 0, {
        description: 'outbox drained after restart',
      });
      // The re-publication was deduplicated by Nats-Msg-Id.
      expect((await env.jsm.streams.info(ledger.context.stream)).state.messages).toBe(10);

      await consumer.start();
      await waitFor(() => seen.size === 10, { description: 'all ten events consumed' });
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      const row = await env.consumerDb
        .selectFrom('balances')
        .selectAll()
        .where('account_id', '=', 'crash')
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ balance: 45, entries: 9 });
    } finally {
      await consumer.stop();
      await relay?.stop();
      await env.close();
      await database.drop();
    }
  });

  it('keeps committing while NATS is down and drains the outbox when it returns: nothing lost, nothing doubled', async () => {
    const nats = await privateNats();
    const ledger = ledgerContext();
    const database = await testDatabase();
    const env = await setUpLedger(ledger, database.url, nats.url);
    const seen = new Map<string, number>();
    const consumer = countingConsumer(ledger, env, seen);
    const relay = ledgerRelay(ledger, env, { publishTimeoutMs: 1_000, pollIntervalMs: 200 });
    try {
      await relay.start();
      env.store.onCommitted((publications) => relay.committed(publications));
      await consumer.start();
      const command = commandOn(env);
      await command('outage', { kind: 'open', accountId: 'outage' });
      await waitFor(() => seen.size === 1, { description: 'first event before the outage' });

      await nats.kill();
      for (let i = 1; i <= 50; i++)
        await command('outage', { kind: 'record', accountId: 'outage', amount: i });
      const backlog = await outboxBacklog(env.producerDb);
      expect(backlog.unsequenced + backlog.unpublished).toBeGreaterThan(0);

      await nats.restart();
      await waitFor(
        async () =>
          (await outboxBacklog(env.producerDb)).unpublished +
            (await outboxBacklog(env.producerDb)).unsequenced ===
          0,
        {
          description: 'outbox drained after NATS returned',
          timeoutMs: 30_000,
        },
      );
      await waitFor(() => seen.size === 51, { description: 'every event consumed', timeoutMs: 30_000 });
      expect((await env.jsm.streams.info(ledger.context.stream)).state.messages).toBe(51);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      const row = await env.consumerDb
        .selectFrom('balances')
        .selectAll()
        .where('account_id', '=', 'outage')
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ balance: (50 * 51) / 2, entries: 50 });
    } finally {
      await consumer.stop();
      await relay.stop();
      await env.close();
      await database.drop();
      await nats.stop();
    }
  });
});
