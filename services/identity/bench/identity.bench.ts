// npm run bench:identity — the libs/auth guard against bare jose, and revocation latency.
//
//   1. Verifications per second on one core (one event loop), side by side:
//        baseline:     jose jwtVerify of each token with its key in hand (signature + claims), nothing else
//        guard, cold:  AccessTokenVerifier on tokens it has never seen (header checks, JWKS lookup,
//                      signature, claims, revocation check)
//        guard, warm:  the same verifier on tokens it verified before (a pool of active sessions):
//                      cached by exact token text, expiry and revocation still checked on every call
//   2. Time from a session revocation (logout through identity's API) to its rejection by the guard
//      of ANOTHER service in another Nest app: commit → outbox relay → JetStream → revocation feed.
//      Baseline: a JetStream publish seen by an ordered consumer (the transport alone).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  ACCESS_TOKEN_VERIFIER,
  AccessTokenVerifier,
  AuthError,
  JwksKeyStore,
  RevocationList,
} from '@palisade/auth';
import { DEFAULT_TOKEN_AUDIENCE, DEFAULT_TOKEN_ISSUER } from '@palisade/contracts';
import { ensureGoTool, NATS_SERVER_TOOL } from '@palisade/config';
import { startEmbeddedPostgres, startNatsServer } from '@palisade/embedded';
import { serviceLogins, startPalisade } from '@palisade/runtime';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { connect, DeliverPolicy } from 'nats';
import { identityService } from '../src';
import { SessionService } from '../src/sessions/session.service';
import { guardedService } from '../test/identity.fixture';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 5_000);
const WARM_POOL = Number(process.env.BENCH_WARM_POOL ?? 1_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 200);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const ms = (value: number) => `${value.toFixed(2)} ms`;

/** Calls `verify` over `tokens` round-robin for SECONDS; returns verifications per second. */
async function rate(
  tokens: string[],
  verify: (token: string) => Promise<unknown>,
  limit = Infinity,
): Promise<number> {
  let done = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  while (performance.now() < deadline && done < limit) {
    for (let i = 0; i < 100 && done < limit; i++) await verify(tokens[done++ % tokens.length]);
  }
  return done / ((performance.now() - started) / 1000);
}

async function verificationRates() {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'EdDSA', use: 'sig' };
  const now = Math.floor(Date.now() / 1000);
  const sign = (i: number) =>
    new SignJWT({ sid: `session${i}` })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'bench', typ: 'at+jwt' })
      .setIssuer(DEFAULT_TOKEN_ISSUER)
      .setAudience(DEFAULT_TOKEN_AUDIENCE)
      .setSubject(`user${i}`)
      .setJti(`jti${i}`)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 900)
      .sign(privateKey);
  const tokens = await Promise.all(Array.from({ length: TOKENS }, (_, i) => sign(i)));
  const options = { algorithms: ['EdDSA'], issuer: DEFAULT_TOKEN_ISSUER, audience: DEFAULT_TOKEN_AUDIENCE };
  const verifier = () =>
    new AccessTokenVerifier({
      keys: new JwksKeyStore(async () => ({ keys: [jwk] })),
      revocations: new RevocationList(),
    });

  const baseline = await rate(tokens, (t) => jwtVerify(t, publicKey, options));
  // Cold: every token is new to this verifier (at most TOKENS verifications), so none is a cache hit.
  const cold = verifier();
  const coldRate = await rate(tokens, (t) => cold.verify(t), TOKENS);
  const warm = verifier();
  const pool = tokens.slice(0, WARM_POOL);
  for (const t of pool) await warm.verify(t);
  const warmRate = await rate(pool, (t) => warm.verify(t));
  const baselinePool = await rate(pool, (t) => jwtVerify(t, publicKey, options));

  console.log(
    `\n1. access token verifications per second, one core (EdDSA, ${os.cpus()[0]?.model ?? 'cpu'})`,
  );
  console.table([
    { run: 'baseline: bare jose jwtVerify', 'verifications/s': Math.round(baseline), 'vs baseline': '1.00x' },
    {
      run: `guard, cold (up to ${TOKENS} tokens, each seen once)`,
      'verifications/s': Math.round(coldRate),
      'vs baseline': `${(coldRate / baseline).toFixed(2)}x`,
    },
    {
      run: `baseline on the warm pool (${WARM_POOL} tokens)`,
      'verifications/s': Math.round(baselinePool),
      'vs baseline': `${(baselinePool / baseline).toFixed(2)}x`,
    },
    {
      run: `guard, warm (${WARM_POOL} active tokens, verified before)`,
      'verifications/s': Math.round(warmRate),
      'vs baseline': `${(warmRate / baseline).toFixed(2)}x`,
    },
  ]);
  return { baseline, coldRate, warmRate };
}

async function revocationLatency(databaseUrl: string, natsUrl: string, dir: string) {
  const bootstrapFile = path.join(os.tmpdir(), `palisade-bench-${process.pid}.json`);
  const guarded = guardedService();
  const env = {
    ...(await serviceLogins(databaseUrl, 'bench').serviceEnv([identityService, guarded.service])),
    NATS_URL: natsUrl,
    HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    IDENTITY_BOOTSTRAP_FILE: bootstrapFile,
    IDENTITY_KEY_ENCRYPTION_KEY_FILE: path.join(dir, 'identity-key-encryption.key'),
    IDENTITY_AUTH_RATE_LIMIT_PER_MINUTE: '100000',
  };
  const identity = await startPalisade({ services: [identityService], env });
  const other = await startPalisade({ services: [guarded.service], env });
  const sessions = identity.app.get(SessionService, { strict: false });
  const otherVerifier = other.app.get<AccessTokenVerifier>(ACCESS_TOKEN_VERIFIER, { strict: false });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < REVOCATIONS; i++) {
      const pair = await sessions.start(`benchuser${i}`, 'bootstrap');
      await otherVerifier.verify(pair.accessToken);
      const started = performance.now();
      const logout = await fetch(`${identity.url}/v1/auth/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pair.accessToken}` },
      });
      if (logout.status !== 204) throw new Error(`logout answered ${logout.status}`);
      for (;;) {
        try {
          await otherVerifier.verify(pair.accessToken);
        } catch (error) {
          if ((error as AuthError).code === 'session_revoked') break;
          throw error;
        }
        if (performance.now() - started > 10_000) throw new Error('revocation did not arrive within 10 s');
        await new Promise((resolve) => setImmediate(resolve));
      }
      latencies.push(performance.now() - started);
    }
  } finally {
    await other.stop();
    await identity.stop();
    fs.rmSync(bootstrapFile, { force: true });
  }

  // Baseline: the transport alone (JetStream publish → ordered consumer on the same server).
  const nc = await connect({ servers: natsUrl });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'BENCH_BASELINE', subjects: ['bench.baseline'] });
  const consumer = await nc
    .jetstream()
    .consumers.get('BENCH_BASELINE', { deliver_policy: DeliverPolicy.New });
  const arrivals = new Map<number, () => void>();
  const messages = await consumer.consume({ callback: (m) => arrivals.get(Number(m.string()))?.() });
  const baseline: number[] = [];
  for (let i = 0; i < REVOCATIONS; i++) {
    const seen = new Promise<void>((resolve) => arrivals.set(i, resolve));
    const started = performance.now();
    await nc.jetstream().publish('bench.baseline', new TextEncoder().encode(String(i)));
    await seen;
    baseline.push(performance.now() - started);
  }
  await messages.close();
  await nc.close();

  const sorted = [...latencies].sort((a, b) => a - b);
  const base = [...baseline].sort((a, b) => a - b);
  console.log(
    `\n2. revocation → rejection by another service's guard (${REVOCATIONS} sessions, one at a time)`,
  );
  console.table([
    {
      run: 'baseline: JetStream publish → ordered consumer',
      p50: ms(percentile(base, 50)),
      p99: ms(percentile(base, 99)),
      max: ms(base[base.length - 1]),
    },
    {
      run: 'logout (HTTP) → other service refuses the token',
      p50: ms(percentile(sorted, 50)),
      p99: ms(percentile(sorted, 99)),
      max: ms(sorted[sorted.length - 1]),
    },
  ]);
  return { p99: percentile(sorted, 99) };
}

async function main() {
  const rates = await verificationRates();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-bench-identity-'));
  fs.chmodSync(dir, 0o711);
  const natsServer = ensureGoTool(NATS_SERVER_TOOL, { override: process.env.PALISADE_NATS_SERVER });
  console.log(`on ${natsServer.describe()}`);
  const nats = await startNatsServer({ dataDir: path.join(dir, 'nats'), binary: natsServer.path });
  const pg = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg', 'data'),
    password: 'bench-password-not-secret',
  });
  try {
    const { p99 } = await revocationLatency(await pg.createDatabase('bench'), nats.url, dir);
    console.log(
      `\ntargets: >= 20,000 verifications/s (guard warm ${Math.round(rates.warmRate)}, cold ${Math.round(rates.coldRate)}); ` +
        `revocation p99 < 100 ms (${ms(p99)})`,
    );
  } finally {
    await pg.stop();
    await nats.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
