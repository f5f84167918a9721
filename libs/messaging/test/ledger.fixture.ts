import { randomBytes } from 'node:crypto';
import { contextConstants, defineEvent, DomainEventOf, EventRegistry } from '@palisade/contracts';
import {
  createDatabase,
  Decider,
  EventStore,
  MigrationSet,
  runMigrations,
  ServiceDatabase,
} from '@palisade/persistence';
import { sql } from 'kysely';
import { NatsConnection } from 'nats';
import { connectNats } from '../src/connection';
import { DurableConsumer, DurableConsumerOptions } from '../src/durable-consumer';
import { OutboxRelay, OutboxRelayOptions } from '../src/outbox-relay';
import { z } from 'zod';
import { contextStreamConfig, deadLetterStreamConfig, ensureStream } from '../src/streams';

/**
 * A small "ledger" context used only by the backbone tests: accounts receive entries, a
 * consumer in another schema projects balances. Each call makes a fresh context name, so
 * its streams, subjects and schemas are the test's own.
 */
export function ledgerContext() {
  return ledgerFromName(`t${randomBytes(5).toString('hex')}`);
}

/** The ledger context of a given name (another process of the same test or benchmark). */
export function ledgerFromName(name: string) {
  const context = contextConstants(name);
  const accountOpened = defineEvent({
    context: context.context,
    entity: 'account',
    verb: 'opened',
    description: 'an account was opened',
    data: z.object({ accountId: z.string().min(1).max(64) }).strict(),
  });
  const entryRecorded = defineEvent({
    context: context.context,
    entity: 'entry',
    verb: 'recorded',
    description: 'an amount was booked on an account',
    data: z
      .object({ accountId: z.string().min(1).max(64), amount: z.int(), memo: z.string().max(200).optional() })
      .strict(),
  });
  const events = [accountOpened, entryRecorded] as const;
  const consumerContext = contextConstants(`${context.context}-reader`);
  return {
    context,
    consumerContext,
    events,
    accountOpened,
    entryRecorded,
    registry: new EventRegistry(events),
  };
}

export type Ledger = ReturnType<typeof ledgerContext>;
export type LedgerEvent = DomainEventOf<Ledger['accountOpened']> | DomainEventOf<Ledger['entryRecorded']>;

export type AccountCommand =
  { kind: 'open'; accountId: string } | { kind: 'record'; accountId: string; amount: number; memo?: string };
export interface AccountState {
  open: boolean;
  balance: number;
}

export class LedgerRuleError extends Error {
  readonly code = 'ledger_rule';
}

export const accountDecider: Decider<AccountState, AccountCommand, LedgerEvent> = {
  initialState: { open: false, balance: 0 },
  decide(state, command) {
    switch (command.kind) {
      case 'open':
        if (state.open) throw new LedgerRuleError('account already open');
        return [{ type: 'account.opened', data: { accountId: command.accountId } }];
      case 'record':
        if (!state.open) throw new LedgerRuleError('account not open');
        return [
          {
            type: 'entry.recorded',
            data: { accountId: command.accountId, amount: command.amount, memo: command.memo },
          },
        ];
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'account.opened':
        return { ...state, open: true };
      case 'entry.recorded':
        return { ...state, balance: state.balance + event.data.amount };
    }
  },
};

export interface BalancesTables {
  balances: { account_id: string; balance: number; entries: number };
}

export const readerMigrations: MigrationSet = {
  '202611230100_balances': {
    async up(db) {
      await sql`create table balances (account_id text primary key, balance bigint not null, entries int not null)`.execute(
        db,
      );
    },
  },
};

/** Producer and consumer databases (own schemas), a NATS connection and the context's streams. */
export async function setUpLedger(
  ledger: Ledger,
  databaseUrl: string,
  natsUrl: string,
  options: { poolSize?: number } = {},
) {
  const producerDb = createDatabase({
    url: databaseUrl,
    schema: ledger.context.schema,
    poolSize: options.poolSize,
  });
  const consumerDb: ServiceDatabase<BalancesTables> = createDatabase<BalancesTables>({
    url: databaseUrl,
    schema: ledger.consumerContext.schema,
  });
  await runMigrations(producerDb, ledger.context.schema);
  await runMigrations(consumerDb, ledger.consumerContext.schema, readerMigrations);
  const nc: NatsConnection = await connectNats({
    servers: natsUrl,
    name: `ledger-${ledger.context.context}`,
  });
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, contextStreamConfig(ledger.context));
  await ensureStream(jsm, deadLetterStreamConfig(ledger.consumerContext));
  const store = new EventStore(ledger.context, ledger.events);
  return {
    databaseUrl,
    producerDb,
    consumerDb,
    nc,
    js: nc.jetstream(),
    jsm,
    store,
    async close() {
      await nc.close().catch(() => undefined);
      await producerDb.destroy();
      await consumerDb.destroy();
    },
  };
}

export type LedgerEnv = Awaited<ReturnType<typeof setUpLedger>>;

type ConsumerWiring =
  'owner' | 'durable' | 'stream' | 'filterSubject' | 'nc' | 'js' | 'jsm' | 'db' | 'registry';

/** A durable consumer of the ledger's stream that applies effects in the reader's schema. */
export function ledgerConsumer(
  ledger: Ledger,
  env: LedgerEnv,
  purpose: string,
  options: Omit<DurableConsumerOptions, ConsumerWiring>,
): DurableConsumer {
  return new DurableConsumer({
    owner: ledger.consumerContext,
    durable: `${ledger.consumerContext.context}-${purpose}`,
    stream: ledger.context.stream,
    filterSubject: ledger.context.subjects,
    nc: env.nc,
    js: env.js,
    jsm: env.jsm,
    db: env.consumerDb,
    registry: ledger.registry,
    ...options,
  });
}

/** The outbox relay of the ledger's producer schema and stream, with `options` on top. */
export function ledgerRelay(
  ledger: Ledger,
  env: LedgerEnv,
  options: Partial<OutboxRelayOptions> = {},
): OutboxRelay {
  return new OutboxRelay({
    db: env.producerDb,
    databaseUrl: env.databaseUrl,
    schema: ledger.context.schema,
    stream: ledger.context.stream,
    nc: env.nc,
    ...options,
  });
}
