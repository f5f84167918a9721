// npm run bench:secrets — resolve latency of a wake that declares 20 inputs.
//
//   resolve:   `rpc.secrets.resolve` for 20 inputs (view lookup, backend read of the 20 recorded
//              versions, sealing, the inputs.resolved append), request sent → sealed reply in
//              hand, with the local store and with SSM behind the SSM-compatible endpoint;
//   baseline:  a bare GetParametersByPath (WithDecryption, 2 pages of 10) of the same 20 values
//              from the same endpoint with the same SDK, interleaved with the resolves;
//   wake:      a resolve sent right after the runtime.wake_requested append (atLeast waits for
//              the projection), i.e. what the runtime-scheduler sees at a wake.
// Real nats-server (JetStream, file storage) and Postgres; the services run in this process.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { resolveReplySchema, SECRETS, SECRETS_RPC } from '@palisade/contracts';
import { generateBoxKeyPair, openBox } from '@palisade/crypto';
import { rpcSubject } from '@palisade/messaging';
import { RunningPalisade, serviceLogins, startPalisade } from '@palisade/runtime';
import { percentile, runBench, startSsmEndpoint } from '@palisade/testing';
import { connect, NatsConnection } from 'nats';
import { secretsService } from '../src';
import { SecretCommands } from '../src/commands/secret.commands';
import { RuntimeViewPosition } from '../src/projections/runtime-view.position';
import { runtimeSchedulerStandIn, schedulerOf } from '../test/runtime-scheduler.fixture';

const RUNS = Number(process.env.BENCH_RUNS ?? 300);
const INPUTS = 20;
const REGION = 'eu-central-1';
const names = Array.from({ length: INPUTS }, (_, i) => `INPUT_${String(i).padStart(2, '0')}`);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

process.env.AWS_ACCESS_KEY_ID ??= 'AKIAPALISADEBENCH001';
process.env.AWS_SECRET_ACCESS_KEY ??= 'palisade-bench-secret-access-key-not-real';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

interface Series {
  label: string;
  ms: number[];
}

const summary = (s: Series) => {
  const sorted = [...s.ms].sort((a, b) => a - b);
  return {
    label: s.label,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
};

async function resolveOnce(
  nc: NatsConnection,
  body: Record<string, unknown>,
  key: ReturnType<typeof generateBoxKeyPair>,
) {
  const started = performance.now();
  const reply = await nc.request(
    rpcSubject(SECRETS, SECRETS_RPC.resolve),
    encoder.encode(JSON.stringify(body)),
    {
      timeout: 10_000,
    },
  );
  const elapsed = performance.now() - started;
  const parsed = resolveReplySchema.parse(JSON.parse(decoder.decode(reply.data)));
  const values = JSON.parse(
    openBox(parsed.sealed, key.privateKey, body.runtimeId as string).toString('utf8'),
  ) as object;
  if (Object.keys(values).length !== INPUTS) throw new Error('a resolve came back without its 20 values');
  return elapsed;
}

/** One backend: 20 values set, RUNS wakes resolved, each beside a bare GetParametersByPath. */
async function measure(
  backend: 'local' | 'ssm',
  env: Record<string, string>,
  bare: () => Promise<unknown>,
  natsUrl: string,
): Promise<{ resolve: Series; wake: Series; baseline: Series }> {
  const running: RunningPalisade = await startPalisade({
    services: [runtimeSchedulerStandIn, secretsService],
    env: { ...env, SECRETS_BACKEND: backend },
  });
  const nc = await connect({ servers: natsUrl });
  try {
    const orgId = `org-${backend}`;
    const commands = running.app.get(SecretCommands, { strict: false });
    for (const name of names)
      await commands.set(
        { orgId, workspaceId: 'api', name },
        `value of ${name}: ${'x'.repeat(48)}`,
        'bench',
        'user:bench',
        Date.now(),
      );
    const scheduler = schedulerOf(running.app);
    const position = running.app.get(RuntimeViewPosition, { strict: false });
    await scheduler.workspace(orgId, 'api', names);
    const resolve: Series = {
      label: `resolve 20 inputs, ${backend === 'local' ? 'local store' : 'SSM endpoint'}`,
      ms: [],
    };
    const wake: Series = {
      label: `wake append → resolve reply, ${backend === 'local' ? 'local store' : 'SSM endpoint'}`,
      ms: [],
    };
    const baseline: Series = { label: 'bare GetParametersByPath of the same 20 (SSM endpoint)', ms: [] };
    const request = (runtimeId: string, atLeast: number, key: ReturnType<typeof generateBoxKeyPair>) => ({
      orgId,
      workspaceId: 'api',
      runtimeId,
      inputs: names,
      publicKey: key.publicKey,
      atLeast,
    });
    // Warm-up (connections, prepared statements, JIT), not measured.
    for (let i = 0; i < 20; i++) {
      const key = generateBoxKeyPair();
      const { runtimeId, sequence } = await scheduler.wake(orgId, 'api');
      await resolveOnce(nc, request(runtimeId, sequence, key), key);
      await bare();
    }
    for (let i = 0; i < RUNS; i++) {
      // A wake already in the view: the resolve alone.
      const key = generateBoxKeyPair();
      const { runtimeId, sequence } = await scheduler.wake(orgId, 'api');
      if (!(await position.reach(sequence, 10_000))) throw new Error('the view did not reach the wake');
      resolve.ms.push(await resolveOnce(nc, request(runtimeId, sequence, key), key));
      let started = performance.now();
      await bare();
      baseline.ms.push(performance.now() - started);
      // A wake as the runtime-scheduler makes it: append, then ask at once.
      const fresh = generateBoxKeyPair();
      started = performance.now();
      const next = await scheduler.wake(orgId, 'api');
      await resolveOnce(nc, request(next.runtimeId, next.sequence, fresh), fresh);
      wake.ms.push(performance.now() - started);
    }
    return { resolve, wake, baseline };
  } finally {
    await nc.close();
    await running.stop();
  }
}

runBench('secrets', async ({ natsUrl, databaseUrl, dir }) => {
  const endpoint = await startSsmEndpoint();
  const ssm = new SSMClient({ region: REGION, endpoint: endpoint.url });
  const keyFile = path.join(dir, 'secrets-master.key');
  const env = {
    // Migrated as the migration role; each service connects as its own login.
    ...(await serviceLogins(databaseUrl, 'bench').serviceEnv([runtimeSchedulerStandIn, secretsService])),
    NATS_URL: natsUrl,
    HTTP_PORT: '0',
    LOG_LEVEL: 'warn',
    SECRETS_MASTER_KEY_FILE: keyFile,
    SECRETS_SSM_REGION: REGION,
    SECRETS_SSM_ENDPOINT: endpoint.url,
  };
  // The bare read: the 20 values of org-ssm/api straight from SSM (2 pages of 10, decrypted).
  const bare = async () => {
    let token: string | undefined;
    let count = 0;
    do {
      const page = await ssm.send(
        new GetParametersByPathCommand({
          Path: '/palisade/org-ssm/api',
          WithDecryption: true,
          MaxResults: 10,
          NextToken: token,
        }),
      );
      count += page.Parameters?.length ?? 0;
      token = page.NextToken;
    } while (token);
    if (count && count !== INPUTS) throw new Error(`GetParametersByPath returned ${count} values`);
  };
  try {
    console.log(
      `secrets benchmark: ${RUNS} wakes per backend, ${INPUTS} inputs each, ${os.cpus().length} cores`,
    );
    // SSM first, so that the baseline reads the same 20 values throughout.
    const onSsm = await measure('ssm', env, bare, natsUrl);
    const onLocal = await measure('local', env, bare, natsUrl);
    const rows = [
      onLocal.baseline,
      onSsm.baseline,
      onLocal.resolve,
      onSsm.resolve,
      onLocal.wake,
      onSsm.wake,
    ].map(summary);
    console.log('\n| run | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|');
    rows[0].label += ' (beside the local run)';
    rows[1].label += ' (beside the SSM run)';
    for (const r of rows)
      console.log(`| ${r.label} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(2)} |`);
    const ratio = (a: ReturnType<typeof summary>, b: ReturnType<typeof summary>) =>
      `p50 ${(a.p50 / b.p50).toFixed(2)}x, p99 ${(a.p99 / b.p99).toFixed(2)}x`;
    console.log(`\nratio resolve (local store) / bare GetParametersByPath: ${ratio(rows[2], rows[0])}`);
    console.log(`ratio resolve (SSM endpoint) / bare GetParametersByPath: ${ratio(rows[3], rows[1])}`);
    console.log(
      `ratio wake → reply / resolve alone: local ${ratio(rows[4], rows[2])}; SSM ${ratio(rows[5], rows[3])}`,
    );
    const requests = endpoint.requests.filter((r) => r.outcome !== 'ok').length;
    if (requests) console.log(`(the endpoint answered ${requests} requests with an error)`);
  } finally {
    ssm.destroy();
    await endpoint.stop();
    fs.rmSync(keyFile, { force: true });
  }
});
