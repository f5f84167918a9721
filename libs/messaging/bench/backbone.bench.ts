// npm run bench:backbone — the backbone's end-to-end cost against raw JetStream, side by side.
//
//   end to end: 32 writers run commands (load, decide, append + outbox; group commit) → commit →
//               outbox relay → JetStream → durable consumer (inbox + set-based projection in one
//               transaction) → ack. One process, as under `palisade dev`.
//   baseline:   the same payloads published to JetStream by 32 writers awaiting each publish ack
//               and consumed with explicit acks by a pull consumer, no Postgres.
//
// Runs: closed loop (as fast as 32 writers go), then paced at fixed offered rates (still at most
// 32 in flight). Latency: end to end from commit to the consumer's ack; baseline from publish to
// consume. Last, each backbone stage alone with the CPU it costs per event (Linux /proc).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { percentile, runBench } from '@palisade/testing';
import { executeCommand, outboxBacklog } from '@palisade/persistence';
import { sql } from 'kysely';
import { AckPolicy, connect, DeliverPolicy, headers, JsMsg, nanos, StorageType } from 'nats';
import type { BatchEventHandlerFn } from '../src/durable-consumer';
import { OutboxRelay } from '../src/outbox-relay';
import { accountDecider, ledgerContext, setUpLedger, ledgerConsumer } from '../test/ledger.fixture';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 32);
const RATES = (process.env.BENCH_RATES ?? '5000,2500').split(',').map(Number);
// BENCH_ONLY=stages: only the per-stage CPU costs.

interface Result {
  name: string;
  seconds: number;
  latencies: number[];
  /** End to end only: commit → JetStream acknowledgement of the relay's publish. */
  relayed?: number[];
}

function summary(r: Result) {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  return {
    rate: EVENTS / r.seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

/** Runs `job` EVENTS times with WRITERS in flight: closed loop, or paced to `rate` per second. */
async function drive(job: (i: number) => Promise<void>, rate?: number): Promise<void> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      for (;;) {
        const i = next++;
        if (i >= EVENTS) return;
        if (rate) {
          const wait = started + (i * 1000) / rate - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        await job(i);
      }
    }),
  );
}

function until(check: () => boolean | Promise<boolean>): Promise<void> {
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      Promise.resolve(check()).then((done) => (done ? resolve() : void setTimeout(tick, 1)), reject);
    };
    tick();
  });
}

/** The consumers' projection, set-based: one statement per micro-batch. */
const openBalances: BatchEventHandlerFn = async (events, ctx) => {
  const ids = events.map((event) => (event.data as { accountId: string }).accountId);
  await sql`insert into balances (account_id, balance, entries) select a, 0, 0 from unnest(${ids}::text[]) as a on conflict do nothing`.execute(
    ctx.trx,
  );
};

const label = (rate?: number) => (rate ? `paced at ${rate}/s` : 'closed loop');

async function backbone(databaseUrl: string, natsUrl: string, rate?: number): Promise<Result> {
  const ledger = ledgerContext();
  const env = await setUpLedger(ledger, databaseUrl, natsUrl, { poolSize: WRITERS + 8 });
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  let applied = 0;
  const relayed: number[] = [];
  const relay = new OutboxRelay({
    db: env.producerDb,
    databaseUrl,
    schema: ledger.context.schema,
    stream: ledger.context.stream,
    js: env.js,
    onPublished: (batch) => {
      const now = performance.now();
      for (const p of batch) {
        const at = committedAt.get(p.eventId);
        if (at !== undefined) relayed.push(now - at);
      }
    },
  });
  const consumer = ledgerConsumer(ledger, env, 'bench', {
    batchSize: 256,
    handleBatch: openBalances,
    onApplied: (events) => {
      const now = performance.now();
      for (const e of events) {
        const at = committedAt.get(e.id);
        if (at !== undefined) latencies.push(now - at);
      }
      applied += events.length;
    },
  });
  await relay.start();
  env.store.onCommitted(() => relay.committed());
  await consumer.start();
  const started = performance.now();
  await drive(async (i) => {
    const accountId = `a${i}`;
    const result = await executeCommand(env.producerDb, env.store, {
      streamId: `account/${accountId}`,
      decider: accountDecider,
      command: { kind: 'open', accountId },
      metadata: { orgId: 'org-bench', actor: 'service:bench' },
    });
    committedAt.set(result.events[0].envelope.id, performance.now());
  }, rate);
  await until(() => applied >= EVENTS);
  const seconds = (performance.now() - started) / 1000;
  await consumer.stop();
  await relay.stop();
  await env.close();
  return { name: `end to end, ${label(rate)}`, seconds, latencies, relayed };
}

async function rawJetStream(
  natsUrl: string,
  payload: (i: number) => Uint8Array,
  rate?: number,
): Promise<Result> {
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const name = `RAW_${randomUUID().slice(0, 8).toUpperCase()}`;
  await jsm.streams.add({
    name,
    subjects: [`raw.${name}.>`],
    storage: StorageType.File,
    duplicate_window: nanos(120_000),
  });
  await jsm.consumers.add(name, {
    durable_name: 'bench',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 2048,
  });
  const publishedAt = new Map<number, number>();
  const latencies: number[] = [];
  let received = 0;
  const messages = await (
    await js.consumers.get(name, 'bench')
  ).consume({
    max_messages: 512,
    callback: (m: JsMsg) => {
      m.ack();
      const at = publishedAt.get(Number(m.headers?.get('i')));
      if (at !== undefined) latencies.push(performance.now() - at);
      received++;
    },
  });
  const started = performance.now();
  await drive(async (i) => {
    const h = headers();
    h.set('i', String(i));
    publishedAt.set(i, performance.now());
    await js.publish(`raw.${name}.e`, payload(i), {
      msgID: `m${i}`,
      headers: h,
      expect: { streamName: name },
    });
  }, rate);
  await until(() => received >= EVENTS);
  const seconds = (performance.now() - started) / 1000;
  await messages.close();
  await jsm.streams.delete(name);
  await nc.close();
  return { name: `raw JetStream, ${label(rate)}`, seconds, latencies };
}

/** CPU seconds used so far by Postgres (its user's processes), nats-server and this process. */
function cpuNow(postgresUid: number) {
  const ticks = Number(process.env.CLK_TCK ?? 100);
  let pg = 0;
  let nats = 0;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / ticks;
      if (fs.statSync(`/proc/${pid}`).uid === postgresUid && postgresUid !== process.getuid!()) pg += seconds;
      else if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('nats-server')) nats += seconds;
    } catch {
      /* the process ended */
    }
  }
  const own = process.cpuUsage();
  return { pg, nats, node: (own.user + own.system) / 1e6 };
}

/** Each stage alone (writes, then relay, then consumer) and the CPU it costs per event. */
async function stageCosts(databaseUrl: string, natsUrl: string, postgresUid: number): Promise<void> {
  const ledger = ledgerContext();
  const env = await setUpLedger(ledger, databaseUrl, natsUrl, { poolSize: WRITERS + 8 });
  const line = async (stage: string, run: () => Promise<void>) => {
    const before = cpuNow(postgresUid);
    const started = performance.now();
    await run();
    const seconds = (performance.now() - started) / 1000;
    const after = cpuNow(postgresUid);
    const per = (key: 'pg' | 'nats' | 'node') => (((after[key] - before[key]) / EVENTS) * 1e6).toFixed(0);
    console.log(
      `| ${stage} | ${(EVENTS / seconds).toFixed(0)} | ${per('pg')} | ${per('nats')} | ${per('node')} |`,
    );
  };
  console.log(
    '\nstages alone (CPU µs per event):\n| stage | events/s | postgres | nats-server | node |\n|---|---:|---:|---:|---:|',
  );
  await line('commands (write path)', () =>
    drive(async (i) => {
      await executeCommand(env.producerDb, env.store, {
        streamId: `account/s${i}`,
        decider: accountDecider,
        command: { kind: 'open', accountId: `s${i}` },
        metadata: { orgId: 'org-bench', actor: 'service:bench' },
      });
    }),
  );
  const relay = new OutboxRelay({
    db: env.producerDb,
    databaseUrl,
    schema: ledger.context.schema,
    stream: ledger.context.stream,
    js: env.js,
  });
  await line('outbox relay', async () => {
    await relay.start();
    await until(async () => {
      const backlog = await outboxBacklog(env.producerDb);
      return backlog.unsequenced + backlog.unpublished === 0;
    });
  });
  let applied = 0;
  const consumer = ledgerConsumer(ledger, env, 'stage', {
    batchSize: 256,
    handleBatch: openBalances,
    onApplied: (events) => (applied += events.length),
  });
  await line('consumer', async () => {
    await consumer.start();
    await until(() => applied >= EVENTS);
  });
  await consumer.stop();
  await relay.stop();
  await env.close();
}

runBench('backbone', async ({ natsUrl, databaseUrl, dir }) => {
  // Baseline payloads of the same size as the events the backbone carries.
  const sample = JSON.stringify({
    specversion: '1.0',
    id: randomUUID(),
    source: '/palisade/t0000000000',
    type: 'palisade.t0000000000.account.opened.v1',
    subject: 'account/a00000',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: { accountId: 'a00000' },
    orgid: 'org-bench',
    actor: 'service:bench',
    correlationid: randomUUID(),
    sequence: 1,
  });
  const payload = (i: number) =>
    new TextEncoder().encode(sample.replace('a00000', `a${String(i).padStart(5, '0')}`));
  console.log(
    `backbone benchmark: ${EVENTS} events per run, ${WRITERS} concurrent writers, ${os.cpus().length} cores, payload ${sample.length} bytes`,
  );
  if (process.env.BENCH_ONLY === 'stages') {
    await stageCosts(databaseUrl, natsUrl, fs.statSync(path.join(dir, 'pg', 'data')).uid);
    return;
  }
  // Warm-up (JIT, connections, first pages), not reported.
  await backbone(databaseUrl, natsUrl);
  const pairs: Array<[Result, Result]> = [];
  for (const rate of [undefined, ...RATES])
    pairs.push([await backbone(databaseUrl, natsUrl, rate), await rawJetStream(natsUrl, payload, rate)]);
  console.log(
    '\n| run | events/s | p50 ms | p99 ms | max ms | of which commit → JetStream ack, p50 / p99 ms |\n|---|---:|---:|---:|---:|---:|',
  );
  for (const r of pairs.flat()) {
    const s = summary(r);
    const relayed = r.relayed && [...r.relayed].sort((a, b) => a - b);
    const split = relayed
      ? `${percentile(relayed, 50).toFixed(2)} / ${percentile(relayed, 99).toFixed(2)}`
      : '';
    console.log(
      `| ${r.name} | ${s.rate.toFixed(0)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.max.toFixed(1)} | ${split} |`,
    );
  }
  console.log(`\nratios (end to end / raw JetStream):`);
  for (const [e2e, raw] of pairs) {
    const a = summary(e2e);
    const b = summary(raw);
    console.log(
      `  ${e2e.name.replace('end to end, ', '').padEnd(16)} throughput ${(a.rate / b.rate).toFixed(2)}x   p50 ${(a.p50 / b.p50).toFixed(1)}x   p99 ${(a.p99 / b.p99).toFixed(1)}x`,
    );
  }
  const closed = summary(pairs[0][0]);
  const at5000 = pairs.find(([r]) => r.name.endsWith('5000/s'));
  const paced = at5000 && summary(at5000[0]);
  console.log(
    `\ntargets: >= 5000 events/s end to end: ${closed.rate >= 5000 ? 'met' : 'NOT met'} (${closed.rate.toFixed(0)}); ` +
      `p99 < 25 ms at 5000/s: ${paced && paced.rate >= 4900 && paced.p99 < 25 ? 'met' : 'NOT met'}` +
      (paced ? ` (${paced.rate.toFixed(0)}/s achieved, p99 ${paced.p99.toFixed(1)} ms)` : ''),
  );
  if (process.platform === 'linux')
    await stageCosts(databaseUrl, natsUrl, fs.statSync(path.join(dir, 'pg', 'data')).uid);
});
