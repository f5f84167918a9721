import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@palisade/embedded';
import { createDatabase } from '@palisade/persistence';
import { RunningPalisade, serviceLogins, startPalisade } from '@palisade/runtime';
import { OidcProviderHandle, startOidcProvider, testDatabase, waitFor } from '@palisade/testing';
import { sql } from 'kysely';
import { identityService } from '../src';
import { LOGIN_BINDING_COOKIE } from '../src/oidc/oidc-login.service';
import { client, errorCode } from './identity.fixture';

const cliBin = path.resolve(__dirname, '..', '..', '..', 'cli', 'bin', 'palisade.js');

/** A browser: follows the provider's redirects with a cookie jar until it is sent back to Palisade. */
async function signInAtProvider(
  identityUrl: string,
  callbackPrefix: string,
  loginHint = 'alice',
  startUrl = `${identityUrl}/v1/auth/oidc/login?login_hint=${loginHint}`,
): Promise<{ callbackUrl: string; binding: string }> {
  const start = await fetch(startUrl, {
    redirect: 'manual',
  });
  expect(start.status).toBe(302);
  const binding = /palisade_oidc_login=([^;]+)/.exec(start.headers.getSetCookie().join('\n'))?.[1];
  expect(binding).toBeDefined();
  expect(start.headers.getSetCookie()[0]).toMatch(/HttpOnly/i);
  const jar = new Map<string, string>();
  let url = start.headers.get('location')!;
  const authorization = new URL(url);
  expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorization.searchParams.get('state')).toBeTruthy();
  expect(authorization.searchParams.get('nonce')).toBeTruthy();
  for (let hop = 0; hop < 10 && !url.startsWith(callbackPrefix); hop++) {
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = pair.split('=');
      jar.set(name.trim(), value.join('='));
    }
    const location = response.headers.get('location');
    if (!location)
      throw new Error(`the provider stopped at ${url} with ${response.status}: ${await response.text()}`);
    url = new URL(location, url).href;
  }
  expect(url.startsWith(callbackPrefix)).toBe(true);
  return { callbackUrl: url, binding: binding! };
}

const callback = (url: string, binding?: string) =>
  fetch(url, { headers: binding ? { cookie: `${LOGIN_BINDING_COOKIE}=${binding}` } : {} }).then(
    async (r) => ({
      status: r.status,
      body: (await r.json()) as Record<string, unknown>,
    }),
  );

describe('identity: OIDC sign-in against a real OpenID Provider (oidc-provider on 127.0.0.1)', () => {
  let provider: OidcProviderHandle;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let identity: RunningPalisade;
  let env: Record<string, string | undefined>;
  let redirectUri: string;
  let db: ReturnType<typeof createDatabase>;

  beforeAll(async () => {
    const port = await freePort();
    redirectUri = `http://127.0.0.1:${port}/v1/auth/oidc/callback`;
    const secret = randomBytes(24).toString('hex');
    provider = await startOidcProvider([
      { client_id: 'palisade', client_secret: secret, redirect_uris: [redirectUri] },
    ]);
    database = await testDatabase();
    env = {
      ...(await serviceLogins(database.url, database.name).serviceEnv([identityService])),
      NATS_URL: process.env.NATS_URL,
      IDENTITY_KEY_ENCRYPTION_KEY_FILE: path.join(os.tmpdir(), `palisade-kek-${database.name}.key`),
      HTTP_PORT: String(port),
      LOG_LEVEL: 'silent',
      PALISADE_OIDC_ISSUER: provider.issuer,
      PALISADE_OIDC_CLIENT_ID: 'palisade',
      PALISADE_OIDC_CLIENT_SECRET: secret,
      PALISADE_OIDC_REDIRECT_URI: redirectUri,
      IDENTITY_AUTH_RATE_LIMIT_PER_MINUTE: '1000',
    };
    identity = await startPalisade({ services: [identityService], env });
    db = createDatabase({ url: database.url, schema: 'identity' });
  });

  afterAll(async () => {
    await db?.destroy();
    await identity?.stop();
    await provider?.stop();
    if (env?.IDENTITY_KEY_ENCRYPTION_KEY_FILE)
      fs.rmSync(env.IDENTITY_KEY_ENCRYPTION_KEY_FILE, { force: true });
    await database?.drop();
  });

  beforeEach(() => provider.tamper({ kind: 'none' }));

  const countEvents = async (type: string) =>
    Number(
      (await sql<{ n: number }>`select count(*)::int8 as n from events where type = ${type}`.execute(db))
        .rows[0].n,
    );

  it('signs in with code + PKCE, registers the user once, and the tokens work', async () => {
    const { callbackUrl, binding } = await signInAtProvider(identity.url, redirectUri, 'alice');
    const answer = await callback(callbackUrl, binding);
    expect(answer.status).toBe(200);
    const whoami = await client(identity.url).get('/v1/auth/whoami', answer.body.accessToken as string);
    expect(whoami.body).toMatchObject({ kind: 'user', sessionId: answer.body.sessionId });
    const again = await signInAtProvider(identity.url, redirectUri, 'alice');
    expect((await callback(again.callbackUrl, again.binding)).status).toBe(200);
    expect(await countEvents('palisade.identity.user.registered.v1')).toBe(1);
    expect(await countEvents('palisade.identity.session.started.v1')).toBe(2);
    // No bootstrap credential exists when OIDC is configured.
    expect((await sql`select * from bootstrap_credentials`.execute(db)).rows).toHaveLength(0);
  });

  it('refuses a replayed callback (state and nonce are single-use), also after a restart', async () => {
    const { callbackUrl, binding } = await signInAtProvider(identity.url, redirectUri, 'bob');
    expect((await callback(callbackUrl, binding)).status).toBe(200);
    const replay = await callback(callbackUrl, binding);
    expect(replay.status).toBe(400);
    expect(errorCode(replay.body)).toBe('login_state_reused');
    await identity.stop();
    identity = await startPalisade({ services: [identityService], env });
    expect(errorCode((await callback(callbackUrl, binding)).body)).toBe('login_state_reused');
  });

  it('refuses an unknown state and a state from another browser (login CSRF)', async () => {
    const { callbackUrl, binding } = await signInAtProvider(identity.url, redirectUri, 'carol');
    const forged = new URL(callbackUrl);
    forged.searchParams.set('state', 'made-up-state');
    expect(errorCode((await callback(forged.href, binding)).body)).toBe('login_state_unknown');
    const otherBrowser = await callback(callbackUrl, randomBytes(32).toString('base64url'));
    expect(otherBrowser.status).toBe(400);
    expect(errorCode(otherBrowser.body)).toBe('login_state_mismatch');
    expect(errorCode((await callback(callbackUrl)).body)).toBe('login_state_reused');
  });

  it('refuses a tampered id_token, one for another audience, and one replayed from an earlier login (nonce)', async () => {
    const sessionsBefore = await countEvents('palisade.identity.session.started.v1');
    provider.tamper({ kind: 'break-signature' });
    let login = await signInAtProvider(identity.url, redirectUri, 'dave');
    const answer = await callback(login.callbackUrl, login.binding);
    expect(answer.status).toBe(401);
    expect(errorCode(answer.body)).toBe('oidc_login_invalid');

    provider.tamper({ kind: 'resign', claims: (claims) => ({ ...claims, aud: 'someone-else' }) });
    login = await signInAtProvider(identity.url, redirectUri, 'dave');
    expect(errorCode((await callback(login.callbackUrl, login.binding)).body)).toBe('oidc_login_invalid');

    provider.tamper({ kind: 'resign', claims: (claims) => ({ ...claims, iss: 'http://127.0.0.1:1' }) });
    login = await signInAtProvider(identity.url, redirectUri, 'dave');
    expect(errorCode((await callback(login.callbackUrl, login.binding)).body)).toBe('oidc_login_invalid');

    provider.tamper({
      kind: 'resign',
      claims: (claims) => ({ ...claims, exp: Math.floor(Date.now() / 1000) - 600 }),
    });
    login = await signInAtProvider(identity.url, redirectUri, 'dave');
    expect(errorCode((await callback(login.callbackUrl, login.binding)).body)).toBe('oidc_login_invalid');

    provider.tamper({ kind: 'none' });
    login = await signInAtProvider(identity.url, redirectUri, 'erin');
    expect((await callback(login.callbackUrl, login.binding)).status).toBe(200);
    const earlier = provider.lastIdToken()!;
    provider.tamper({ kind: 'replace', idToken: earlier });
    login = await signInAtProvider(identity.url, redirectUri, 'erin');
    expect(errorCode((await callback(login.callbackUrl, login.binding)).body)).toBe('oidc_login_invalid');

    expect(await countEvents('palisade.identity.session.started.v1')).toBe(sessionsBefore + 1);
    expect(await countEvents('palisade.identity.login.failed.v1')).toBeGreaterThanOrEqual(5);
    const logged = await sql<{ envelope: unknown }>`select envelope from events`.execute(db);
    expect(JSON.stringify(logged.rows)).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
  });

  it('hands a CLI sign-in to the CLI only: one-time code on its loopback address, exchanged with its verifier', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const start = `${identity.url}/v1/auth/oidc/login?cli_port=45678&cli_challenge=${challenge}&login_hint=gina`;
    const { callbackUrl, binding } = await signInAtProvider(identity.url, redirectUri, 'gina', start);
    const handed = await fetch(callbackUrl, {
      redirect: 'manual',
      headers: { cookie: `${LOGIN_BINDING_COOKIE}=${binding}` },
    });
    expect(handed.status).toBe(302);
    const location = new URL(handed.headers.get('location')!);
    expect(location.origin).toBe('http://127.0.0.1:45678');
    const code = location.searchParams.get('code')!;
    const api = client(identity.url);
    expect(
      errorCode(
        (await api.post('/v1/auth/oidc/handoff', { code, verifier: randomBytes(32).toString('base64url') }))
          .body,
      ),
    ).toBe('handoff_invalid');
    // A wrong verifier burns the code: whoever intercepted it cannot retry, and neither can the CLI.
    expect(errorCode((await api.post('/v1/auth/oidc/handoff', { code, verifier })).body)).toBe(
      'handoff_invalid',
    );
    expect(
      errorCode((await api.get(`/v1/auth/oidc/login?cli_port=80&cli_challenge=${challenge}`)).body),
    ).toBe('invalid_cli_login');
  });

  it('palisade login --oidc signs in through the browser and stores the session', async () => {
    const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-cli-oidc-'));
    let stdout = '';
    const child = spawn(
      process.execPath,
      [cliBin, 'login', '--url', identity.url, '--oidc', '--login-hint', 'hank'],
      {
        env: { ...process.env, PALISADE_CONFIG_DIR: configDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const start = await waitFor(() => /https?:\/\/\S+cli_challenge=\S+/.exec(stdout)?.[0], {
        description: 'the CLI printing the sign-in address',
        timeoutMs: 20_000,
      });
      const { callbackUrl, binding } = await signInAtProvider(identity.url, redirectUri, 'hank', start);
      const handed = await fetch(callbackUrl, {
        redirect: 'manual',
        headers: { cookie: `${LOGIN_BINDING_COOKIE}=${binding}` },
      });
      const loopback = await fetch(handed.headers.get('location')!);
      expect(await loopback.text()).toContain('Signed in');
      expect(await exited).toBe(0);
      const file = path.join(configDir, 'credentials.json');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { accessToken: string };
      expect((await client(identity.url).get('/v1/auth/whoami', stored.accessToken)).body).toMatchObject({
        kind: 'user',
      });
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(configDir, { recursive: true, force: true });
    }
  });

  it('answers a clear 503 when the provider cannot be reached', async () => {
    const closedPort = await freePort();
    const offline = await startPalisade({
      services: [identityService],
      env: { ...env, HTTP_PORT: '0', PALISADE_OIDC_ISSUER: `http://127.0.0.1:${closedPort}` },
    });
    try {
      const response = await client(offline.url).get('/v1/auth/oidc/login');
      expect(response.status).toBe(503);
      expect(errorCode(response.body)).toBe('oidc_provider_unavailable');
    } finally {
      await offline.stop();
    }
  });
});
