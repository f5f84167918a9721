// npm run bench:authz — authorization decisions with 10,000 organizations × 20 members loaded.
//
//   in process:  AuthzView.check over a mix of checks, against a bare two-level Map lookup of
//                the same memberships (the least any membership check can cost), side by side.
//   NATS:        request/reply `rpc.authorization.check` (one check per request) sequentially
//                for latency and with 64 in flight for throughput, against a bare NATS responder
//                that answers a fixed decision on another subject, in the same process.
//   removal:     member.removed committed → the first deny from an AuthzClient whose cache held
//                an allow; beside it, commit → the event reaching a plain NATS subscriber.
// Real nats-server (JetStream, file storage) and Postgres; the service runs in this process.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { AuthzClient } from '@palisade/auth';
import { AUTHORIZATION, AUTHZ_RPC } from '@palisade/contracts';
import type { AuthorizationEvent, AuthzCheck, OrgRole } from '@palisade/contracts';
import { rpcSubject } from '@palisade/messaging';
import { ServiceRuntime, serviceLogins, startPalisade } from '@palisade/runtime';
import { percentile, runBench } from '@palisade/testing';
import { connect } from 'nats';
import { authorizationService } from '../src';
import { OrganizationCommands } from '../src/commands/organization.commands';
import { organizationDecider, orgStreamId } from '../src/domain/organization.decider';
import type { OrgCommand } from '../src/domain/organization.decider';
import type { OrgState } from '../src/domain/org.state';
import { AuthzViewProjection } from '../src/projections/authz-view.projection';

const ORGS = Number(process.env.BENCH_ORGS ?? 10_000);
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 20);
const REMOVALS = Number(process.env.BENCH_REMOVALS ?? 300);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const orgIdOf = (i: number) => `org-${i}`;
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
const userOf = (org: number, m: number) => `u-${org}-${m}`;

/** The events of one organization: an owner, admins, members with grants, reviewers. */
function organizationEvents(i: number): AuthorizationEvent[] {
  const orgId = orgIdOf(i);
  const now = Date.parse('2026-11-25T00:00:00Z');
  const commands: OrgCommand[] = [{ type: 'createOrg', orgId, name: `Org ${i}`, by: userOf(i, 0) }];
  for (let m = 1; m < MEMBERS; m++) {
    const role: OrgRole = m < 3 ? 'admin' : m < 17 ? 'member' : 'reviewer';
    commands.push({ type: 'addMember', userId: userOf(i, m), role, by: userOf(i, 0), now });
    if (role === 'member')
      commands.push({
        type: 'addGrant',
        userId: userOf(i, m),
        workspaceId: `ws-${m % 4}`,
        grant: m % 2 ? 'developer' : 'maintainer',
        by: userOf(i, 0),
        now,
      });
  }
  let state: OrgState | null = null;
  const events: AuthorizationEvent[] = [];
  for (const command of commands)
    for (const event of organizationDecider.decide(state, command)) {
      state = organizationDecider.evolve(state, event);
      events.push(event);
    }
  return events;
}

/** A deterministic mix: members, grants, reviewers, strangers, other organizations. */
function checkMix(n: number): AuthzCheck[] {
  const actions = ['workspace.open_shell', 'devlink.issue', 'audit.read', 'secret.write', 'org.read'];
  const checks: AuthzCheck[] = [];
  for (let k = 0; k < n; k++) {
    const org = (k * 7919) % ORGS;
    const member = (k * 31) % (MEMBERS + 2); // two of every 22 are strangers
    checks.push({
      subject: { kind: 'user', userId: userOf(member < MEMBERS ? org : org + 1, member % MEMBERS) },
      action: actions[k % actions.length],
      resource: { orgId: orgIdOf(org), workspaceId: `ws-${k % 4}` },
    });
  }
  return checks;
}

function inProcess(projection: AuthzViewProjection) {
  const view = projection.view;
  const checks = checkMix(100_000);
  // The baseline: orgId → userId → role, the same memberships, one lookup per check.
  const memberships = new Map<string, Map<string, OrgRole>>();
  for (let i = 0; i < ORGS; i++) memberships.set(orgIdOf(i), new Map(view.org(orgIdOf(i))!.members));
  const run = (label: string, fn: (c: AuthzCheck) => unknown) => {
    let sink = 0;
    for (let w = 0; w < 3; w++) for (const c of checks) if (fn(c)) sink++;
    const started = performance.now();
    let n = 0;
    while (performance.now() - started < 2_000) {
      for (const c of checks) if (fn(c)) sink++;
      n += checks.length;
    }
    const rate = n / ((performance.now() - started) / 1000);
    const samples: number[] = [];
    for (let k = 0; k < 200_000; k++) {
      const c = checks[k % checks.length];
      const t = process.hrtime.bigint();
      if (fn(c)) sink++;
      samples.push(Number(process.hrtime.bigint() - t));
    }
    samples.sort((a, b) => a - b);
    return { label, rate, p50: percentile(samples, 50), p99: percentile(samples, 99), sink };
  };
  const now = Date.now();
  const baseline = run('bare Map lookup', (c) =>
    memberships.get(c.resource.orgId)?.get((c.subject as { userId: string }).userId),
  );
  const real = run('AuthzView.check', (c) => view.check(c, now).allowed);
  const allowed = checks.filter((c) => view.check(c, now).allowed).length;
  return { baseline, real, allowedShare: allowed / checks.length };
}

async function overNats(natsUrl: string) {
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const fixed = encoder.encode(
    JSON.stringify({ decisions: [{ allowed: true, reason: 'role:member' }], sequence: 1 }),
  );
  const echo = nc.subscribe('bench.echo', { callback: (_e, m) => m.respond(fixed) });
  const checks = checkMix(5_000).map((c) => encoder.encode(JSON.stringify({ checks: [c] })));
  const subject = rpcSubject(AUTHORIZATION, AUTHZ_RPC.check);
  const measure = async (label: string, target: string) => {
    for (let k = 0; k < 500; k++) await nc.request(target, checks[k], { timeout: 10_000 });
    const latencies: number[] = [];
    for (const body of checks) {
      const t = performance.now();
      const reply = await nc.request(target, body, { timeout: 10_000 });
      latencies.push(performance.now() - t);
      if (target === subject && !('decisions' in JSON.parse(decoder.decode(reply.data))))
        throw new Error('authorization refused a benchmark check');
    }
    latencies.sort((a, b) => a - b);
    let done = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 64 }, async (_, w) => {
        for (let k = w; performance.now() - started < 3_000; k += 64) {
          await nc.request(target, checks[k % checks.length], { timeout: 10_000 });
          done++;
        }
      }),
    );
    const rate = done / ((performance.now() - started) / 1000);
    return {
      label,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1],
      rate,
    };
  };
  const labelled = (label: string, target: string) =>
    measure(label, target).catch((error: unknown) => {
      throw new Error(`${label}: ${(error as Error).message}`);
    });
  const baseline = await labelled('bare NATS responder', 'bench.echo');
  const real = await labelled('rpc.authorization.check', subject);
  echo.unsubscribe();
  await nc.close();
  return { baseline, real };
}

async function removalToDeny(natsUrl: string, commands: OrganizationCommands) {
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const client = new AuthzClient(nc);
  await client.start();
  const heard = new Map<string, number>();
  const sub = nc.subscribe(`evt.${AUTHORIZATION.context}.*.member.removed`, {
    callback: (_e, m) => heard.set(m.subject.split('.')[2], performance.now()),
  });
  const toDeny: number[] = [];
  const toEvent: number[] = [];
  for (let k = 0; k < REMOVALS; k++) {
    const org = (k * 104_729) % ORGS;
    const orgId = orgIdOf(org);
    const userId = userOf(org, 3 + (k % 14));
    const c: AuthzCheck = { subject: { kind: 'user', userId }, action: 'org.read', resource: { orgId } };
    if (!(await client.check(c)).allowed) throw new Error(`${userId} should be a member of ${orgId}`);
    await commands.execute(
      orgId,
      { type: 'removeMember', userId, by: userOf(org, 0) },
      `user:${userOf(org, 0)}`,
    );
    const committed = performance.now();
    // Polled every millisecond: a busy loop would take a core from Postgres and nats-server.
    while ((await client.check(c)).allowed) await tick();
    toDeny.push(performance.now() - committed);
    while (!heard.has(orgId)) await tick();
    toEvent.push(heard.get(orgId)! - committed);
  }
  sub.unsubscribe();
  await client.stop();
  await nc.close();
  toDeny.sort((a, b) => a - b);
  toEvent.sort((a, b) => a - b);
  return { toDeny, toEvent };
}

runBench('authz', async ({ natsUrl, databaseUrl }) => {
  const env = {
    ...(await serviceLogins(databaseUrl, 'bench').serviceEnv([authorizationService])),
    NATS_URL: natsUrl,
    HTTP_PORT: '0',
    LOG_LEVEL: 'warn',
  };
  console.log(
    `authorization benchmark: ${ORGS} organizations × ${MEMBERS} members, ${os.cpus().length} cores`,
  );
  // Load through the event store: one append per organization (its whole history, decided).
  let running = await startPalisade({
    services: [authorizationService],
    env,
  });
  const runtime = running.app.get(ServiceRuntime, { strict: false });
  let started = performance.now();
  let total = 0;
  for (let i = 0; i < ORGS; i += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, ORGS - i) }, async (_, k) => {
        const events = organizationEvents(i + k);
        total += events.length;
        await runtime.store.append(runtime.db, {
          streamId: orgStreamId(orgIdOf(i + k)),
          expectedVersion: 0,
          events,
          metadata: { orgId: orgIdOf(i + k), actor: 'service:bench' },
        });
      }),
    );
  }
  let projection = running.app.get(AuthzViewProjection, { strict: false });
  while (projection.view.sequence < total) await new Promise((resolve) => setTimeout(resolve, 50));
  console.log(
    `loaded ${total} events in ${((performance.now() - started) / 1000).toFixed(1)} s (append, relay, view)`,
  );
  // A restart rebuilds the view from the store: the cold-start cost.
  await running.stop();
  started = performance.now();
  running = await startPalisade({
    services: [authorizationService],
    env,
  });
  console.log(
    `restart with the view rebuilt from ${total} events: ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  projection = running.app.get(AuthzViewProjection, { strict: false });
  const commands = running.app.get(OrganizationCommands, { strict: false });

  const local = inProcess(projection);
  console.log(`\nin process (${(local.allowedShare * 100).toFixed(0)}% of the mix allowed):`);
  console.log('| run | checks/s | p50 ns | p99 ns |\n|---|---:|---:|---:|');
  for (const r of [local.baseline, local.real])
    console.log(`| ${r.label} | ${r.rate.toFixed(0)} | ${r.p50} | ${r.p99} |`);
  console.log(
    `ratio AuthzView.check / bare lookup: throughput ${(local.real.rate / local.baseline.rate).toFixed(2)}x`,
  );

  const remote = await overNats(natsUrl);
  console.log('\nover NATS request/reply (one check per request):');
  console.log(
    '| run | sequential p50 ms | p99 ms | max ms | 64 in flight, requests/s |\n|---|---:|---:|---:|---:|',
  );
  for (const r of [remote.baseline, remote.real])
    console.log(
      `| ${r.label} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.max.toFixed(1)} | ${r.rate.toFixed(0)} |`,
    );
  console.log(
    `ratio check / bare responder: p99 ${(remote.real.p99 / remote.baseline.p99).toFixed(2)}x, throughput ${(remote.real.rate / remote.baseline.rate).toFixed(2)}x`,
  );

  const removal = await removalToDeny(natsUrl, commands);
  console.log(`\nremoval → deny over ${REMOVALS} removals (from the removal's commit):`);
  console.log('| run | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|');
  const row = (label: string, s: number[]) =>
    console.log(
      `| ${label} | ${percentile(s, 50).toFixed(2)} | ${percentile(s, 99).toFixed(2)} | ${s[s.length - 1].toFixed(2)} |`,
    );
  row('first deny from a client that cached an allow', removal.toDeny);
  row('the event reaching a plain NATS subscriber', removal.toEvent);

  console.log(
    `\ntargets: in-process >= 500,000 checks/s: ${local.real.rate >= 500_000 ? 'met' : 'NOT met'} (${local.real.rate.toFixed(0)}); ` +
      `NATS p99 < 2 ms: ${remote.real.p99 < 2 ? 'met' : 'NOT met'} (${remote.real.p99.toFixed(2)}); ` +
      `removal → deny p99 < 50 ms: ${percentile(removal.toDeny, 99) < 50 ? 'met' : 'NOT met'} (${percentile(removal.toDeny, 99).toFixed(1)})`,
  );
  await running.stop();
});
