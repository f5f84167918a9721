// npm run bench:placement — placement decisions with 1,000 hosts, 200 organizations and
// 10,000 runtimes placed.
//
//   in process:  decidePlacement over the index (an organization's hosts, the free pool by
//                class) against scanPlacement, a full scan of every host deciding the same
//                thing, over one mix of requests; both must agree on every request.
//   NATS:        `rpc.placement.place` (decide, append runtime.placed to the host's stream,
//                reply) sequentially for latency and 32 in flight for throughput, with the
//                indexed decision and with the full scan, beside a bare NATS responder.
// Real nats-server (JetStream, file storage) and Postgres; the service runs in this process.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { defineService, ServiceRuntime, serviceLogins, startPalisade } from '@palisade/runtime';
import { AUTHORIZATION, IDENTITY, PLACEMENT, PLACEMENT_RPC, RUNTIME_SCHEDULER } from '@palisade/contracts';
import type { PlaceRequest, PlacementEvent } from '@palisade/contracts';
import { contextStreamConfig, ensureStream, rpcSubject } from '@palisade/messaging';
import { percentile, runBench } from '@palisade/testing';
import { sql } from 'kysely';
import { connect, NatsConnection } from 'nats';
import { placementConfigSchema, PlacementModule, placementService } from '../src';
import { placementMigrations } from '../migrations';
import { DecideFn } from '../src/commands/placement.commands';
import { decidePlacement } from '../src/domain/decision';
import { hostStreamId, PlacementQuery } from '../src/domain/host.state';
import { PlacementViewProjection } from '../src/projections/placement-view.projection';
import { scanPlacement } from './full-scan';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 1_000);
const ORGS = Number(process.env.BENCH_ORGS ?? 200);
const RUNTIMES = Number(process.env.BENCH_RUNTIMES ?? 10_000);
/** Hosts per organization; the rest are the free pool. */
const PER_ORG = Math.floor((HOSTS * 0.8) / ORGS);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2_000);
const GiB = 2 ** 30;
const CAPACITY = { cpuMillis: 16_000, memoryBytes: 64 * GiB, runtimes: 16 };
const T0 = '2026-12-01T09:00:00.000Z';

const orgOf = (i: number) => `org-${i}`;
const hostOf = (j: number) => `host-${String(j).padStart(4, '0')}`;
const zoneOf = (j: number) => (j % 2 ? 'b' : 'a');

/** One host's whole history: registered, assigned to its organization (the first 80%), its runtimes. */
function hostHistory(j: number, runtimes: number): PlacementEvent[] {
  const hostId = hostOf(j);
  const events: PlacementEvent[] = [
    {
      type: 'host.registered',
      data: {
        hostId,
        engineUrl: `unix:///run/bench/${hostId}.sock`,
        provider: 'static',
        capacity: CAPACITY,
        labels: { zone: zoneOf(j) },
        baseline: { containers: [], volumes: [], networks: [], images: [] },
        registeredBy: 'service:bench',
        registeredAt: T0,
      },
    },
  ];
  const org = Math.floor(j / PER_ORG);
  if (org >= ORGS) return events;
  events.push({ type: 'host.assigned', data: { hostId, orgId: orgOf(org), assignedAt: T0 } });
  for (let r = 0; r < runtimes; r++)
    events.push({
      type: 'runtime.placed',
      data: {
        orgId: orgOf(org),
        workspaceId: `ws-${r}`,
        runtimeId: randomUUID(),
        hostId,
        placedAt: T0,
        resources: { cpuMillis: 1_000, memoryBytes: 2 * GiB },
      },
    });
  return events;
}

/**
 * A deterministic mix: most ask for room on their organization's hosts; 20% ask for more than
 * those have left (a free host is assigned), 10% for a zone, 2% name an unknown organization.
 */
function requestMix(n: number, seed = 1): PlaceRequest[] {
  const requests: PlaceRequest[] = [];
  for (let k = 0; k < n; k++) {
    const org = (k * 7919 + seed) % ORGS;
    const big = k % 5 === 1;
    requests.push({
      orgId: k % 50 === 7 ? `unknown-${k}` : orgOf(org),
      workspaceId: `ws-${k % 10}`,
      runtimeId: randomUUID(),
      resources: { cpuMillis: big ? 6_000 : 500, memoryBytes: big ? 8 * GiB : GiB },
      ...(k % 10 === 3 ? { labels: { zone: zoneOf(k) } } : {}),
    });
  }
  return requests;
}

const queryOf = (r: PlaceRequest): PlacementQuery => ({
  orgId: r.orgId,
  cpuMillis: r.resources.cpuMillis,
  memoryBytes: r.resources.memoryBytes,
  labels: r.labels,
});

const fullScan: DecideFn = (view, query, offer) =>
  scanPlacement(view.index.all(), (orgId) => view.index.knowsOrganization(orgId), query, offer);

function inProcess(projection: PlacementViewProjection) {
  const view = projection.view;
  const queries = requestMix(20_000).map(queryOf);
  const hosts = [...view.index.all()];
  for (const q of queries) {
    const a = decidePlacement(view.index, q);
    const b = scanPlacement(hosts, (o) => view.index.knowsOrganization(o), q);
    if (JSON.stringify(a) !== JSON.stringify(b))
      throw new Error(`the index and the scan disagree: ${JSON.stringify([q, a, b])}`);
  }
  const run = (label: string, decide: (q: PlacementQuery) => { kind: string }) => {
    let sink = 0;
    for (const q of queries) if (decide(q).kind === 'place') sink++;
    const started = performance.now();
    let n = 0;
    while (performance.now() - started < 2_000) {
      for (const q of queries) if (decide(q).kind === 'place') sink++;
      n += queries.length;
    }
    const rate = n / ((performance.now() - started) / 1000);
    const samples: number[] = [];
    for (let k = 0; k < 100_000; k++) {
      const q = queries[k % queries.length];
      const t = process.hrtime.bigint();
      if (decide(q).kind === 'place') sink++;
      samples.push(Number(process.hrtime.bigint() - t));
    }
    samples.sort((x, y) => x - y);
    return { label, rate, p50: percentile(samples, 50) / 1000, p99: percentile(samples, 99) / 1000, sink };
  };
  const known = (o: string) => view.index.knowsOrganization(o);
  const scan = run('full scan of every host', (q) => scanPlacement(hosts, known, q));
  const indexed = run('decidePlacement (index)', (q) => decidePlacement(view.index, q));
  const placed = queries.filter((q) => decidePlacement(view.index, q).kind === 'place').length;
  return { scan, indexed, placedShare: placed / queries.length };
}

/** One event-store append at a time, with nothing else: the commit every placement waits for. */
async function appendLatency(runtime: ServiceRuntime) {
  const latencies: number[] = [];
  for (let k = 0; k < 1_000; k++) {
    const t = performance.now();
    await runtime.store.append(runtime.db, {
      streamId: `bench/${k}`,
      expectedVersion: 0,
      events: [
        {
          type: 'placement.failed',
          data: {
            orgId: 'bench',
            workspaceId: 'ws-1',
            runtimeId: randomUUID(),
            reason: 'no_capacity',
            message: 'bench',
            failedAt: T0,
          },
        },
      ],
      metadata: { orgId: 'bench', actor: 'service:bench' },
    });
    latencies.push(performance.now() - t);
  }
  latencies.sort((x, y) => x - y);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1],
  };
}

async function overNats(nc: NatsConnection, label: string, target: string, seed: number) {
  const requests = requestMix(REQUESTS, seed).filter((r) => !r.orgId.startsWith('unknown') && !r.labels);
  const place = async (r: PlaceRequest) => {
    const reply = await nc.request(target, JSON.stringify(r), { timeout: 10_000 });
    return reply.json<{ placed?: boolean; hostId?: string }>();
  };
  const unplace = (r: PlaceRequest) =>
    nc.request(rpcSubject(PLACEMENT, PLACEMENT_RPC.unplace), JSON.stringify({ runtimeId: r.runtimeId }), {
      timeout: 10_000,
    });
  const real = target !== 'bench.echo';
  // Warm up, then one at a time: each placement is given back (unmeasured) before the next.
  for (const r of requestMix(200, seed + 2).filter((q) => !q.orgId.startsWith('unknown') && !q.labels)) {
    await place(r);
    if (real) await unplace(r);
  }
  const latencies: number[] = [];
  for (const r of requests) {
    const t = performance.now();
    const reply = await place(r);
    latencies.push(performance.now() - t);
    if (real && !reply.placed) throw new Error(`${label}: not placed: ${JSON.stringify(reply)}`);
    if (real) await unplace(r);
  }
  latencies.sort((x, y) => x - y);
  // Throughput: 32 in flight, small asks only (they fit the organizations' hosts), given back after.
  const small = requestMix(REQUESTS, seed + 1).filter(
    (r) => r.resources.cpuMillis === 500 && !r.labels && !r.orgId.startsWith('unknown'),
  );
  let done = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < small.length) {
        const reply = await place(small[next++]);
        if (real && !reply.placed) throw new Error(`${label}: not placed: ${JSON.stringify(reply)}`);
        done++;
      }
    }),
  );
  const rate = done / ((performance.now() - started) / 1000);
  if (real) for (const r of small) await unplace(r);
  return {
    label,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1],
    rate,
  };
}

runBench('placement', async ({ natsUrl, databaseUrl }) => {
  console.log(
    `placement benchmark: ${HOSTS} hosts (${PER_ORG * ORGS} assigned, ${HOSTS - PER_ORG * ORGS} free), ${ORGS} organizations, ${RUNTIMES} runtimes placed, ${os.cpus().length} cores`,
  );
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const jsm = await nc.jetstreamManager();
  for (const context of [AUTHORIZATION, IDENTITY, RUNTIME_SCHEDULER])
    await ensureStream(jsm, contextStreamConfig(context));
  const env = {
    ...(await serviceLogins(databaseUrl, 'bench').serviceEnv([placementService])),
    NATS_URL: natsUrl,
    HTTP_PORT: '0',
    // The bench runs no authorization: its replay endpoint is missing (warned about by the gap check).
    LOG_LEVEL: 'error',
    // The bench's engines do not exist: no pings, wipes or drift rounds while it runs.
    PLACEMENT_HEALTH_INTERVAL_MS: '600000',
    PLACEMENT_DRIFT_INTERVAL_MS: '3600000',
  };
  const service = (decide?: DecideFn) =>
    defineService({
      context: PLACEMENT,
      configSchema: placementConfigSchema,
      migrations: placementMigrations,
      module: (config) => PlacementModule.register(config, { decide }),
    });

  // Load through the event store: one append per host (its whole history).
  let running = await startPalisade({ services: [service()], env });
  const runtime = running.app.get(ServiceRuntime, { strict: false });
  let started = performance.now();
  const assigned = PER_ORG * ORGS;
  let total = 0;
  for (let j = 0; j < HOSTS; j += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, HOSTS - j) }, async (_, k) => {
        const h = j + k;
        const runtimes =
          h < assigned ? Math.floor(RUNTIMES / assigned) + (h < RUNTIMES % assigned ? 1 : 0) : 0;
        const events = hostHistory(h, runtimes);
        total += events.length;
        await runtime.store.append(runtime.db, {
          streamId: hostStreamId(hostOf(h)),
          expectedVersion: 0,
          events,
          metadata: {
            orgId: h < assigned ? orgOf(Math.floor(h / PER_ORG)) : 'system',
            actor: 'service:bench',
          },
        });
      }),
    );
  }
  await sql`insert into organizations (org_id) select 'org-' || g from generate_series(0, ${ORGS - 1}) g`.execute(
    runtime.db,
  );
  console.log(`loaded ${total} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await running.stop();

  // A start rebuilds the view from the store: the cold-start cost.
  started = performance.now();
  running = await startPalisade({ services: [service()], env });
  console.log(
    `start with the view rebuilt from ${total} events: ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const projection = running.app.get(PlacementViewProjection, { strict: false });
  if (projection.view.index.size !== HOSTS)
    throw new Error(`the view holds ${projection.view.index.size} hosts`);

  const local = inProcess(projection);
  console.log(`\nin process (${(local.placedShare * 100).toFixed(0)}% of the mix placed, the rest refused):`);
  console.log('| decision | decisions/s | p50 µs | p99 µs |\n|---|---:|---:|---:|');
  for (const r of [local.scan, local.indexed])
    console.log(`| ${r.label} | ${r.rate.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`);
  console.log(
    `ratio index / full scan: throughput ${(local.indexed.rate / local.scan.rate).toFixed(1)}x, p99 ${(local.scan.p99 / local.indexed.p99).toFixed(1)}x lower`,
  );

  const fixed = JSON.stringify({ placed: true, hostId: 'host-0000', engine: { url: 'unix:///run/x.sock' } });
  const echo = nc.subscribe('bench.echo', { callback: (_e, m) => m.respond(fixed) });
  const subject = rpcSubject(PLACEMENT, PLACEMENT_RPC.place);
  const bare = await overNats(nc, 'bare NATS responder', 'bench.echo', 11);
  echo.unsubscribe();
  // Four runs in the order index, scan, scan, index (each on a service started afresh on the same
  // store), so that neither decision gets the first or the quieter turns; the table shows all.
  await running.stop();
  const runs: Array<Awaited<ReturnType<typeof overNats>>> = [];
  let append: Awaited<ReturnType<typeof appendLatency>> | undefined;
  for (const [round, scan] of [false, true, true, false].entries()) {
    running = await startPalisade({ services: [service(scan ? fullScan : undefined)], env });
    const label = `rpc.placement.place, ${scan ? 'full scan' : 'index'} (turn ${round + 1})`;
    runs.push(await overNats(nc, label, subject, 21 + round));
    if (round === 0) append = await appendLatency(running.app.get(ServiceRuntime, { strict: false }));
    await running.stop();
  }
  const of = (word: string) => runs.filter((r) => r.label.includes(word));
  const indexed = {
    p99: Math.min(...of('index').map((r) => r.p99)),
    rate: Math.max(...of('index').map((r) => r.rate)),
  };
  const scanned = {
    p99: Math.min(...of('full scan').map((r) => r.p99)),
    rate: Math.max(...of('full scan').map((r) => r.rate)),
  };

  console.log(
    `\nover NATS request/reply (decide + append runtime.placed + reply; ${REQUESTS} requests of the mix):`,
  );
  console.log(
    '| run | sequential p50 ms | p99 ms | max ms | 32 in flight, decisions/s |\n|---|---:|---:|---:|---:|',
  );
  for (const r of [bare, ...runs])
    console.log(
      `| ${r.label} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.rate.toFixed(0)} |`,
    );
  console.log(
    `| one event-store append alone (in process, no NATS) | ${append!.p50.toFixed(2)} | ${append!.p99.toFixed(2)} | ${append!.max.toFixed(1)} | |`,
  );
  console.log(
    `ratio index / full scan over NATS (the best turn of each): p99 ${(scanned.p99 / indexed.p99).toFixed(2)}x lower, throughput ${(indexed.rate / scanned.rate).toFixed(2)}x`,
  );
  console.log(
    `\ntargets: in process >= 20,000 decisions/s: ${local.indexed.rate >= 20_000 ? 'met' : 'NOT met'} (${local.indexed.rate.toFixed(0)}); ` +
      `NATS p99 < 5 ms: ${indexed.p99 < 5 ? 'met' : 'NOT met'} (${indexed.p99.toFixed(2)})`,
  );
  await nc.close();
});
