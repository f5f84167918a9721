import fs from 'node:fs';
import { decodeProtectedHeader } from 'jose';
import { waitFor } from '@palisade/testing';
import { sql } from 'kysely';
import { createDatabase } from '@palisade/persistence';
import { startPalisade } from '@palisade/runtime';
import { client, errorCode, guardedService, IdentityHarness, startIdentityHarness } from './identity.fixture';

interface Pair {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  expiresIn: number;
}

describe('identity: bootstrap sign-in, sessions, refresh rotation, revocation seen by another service', () => {
  let harness: IdentityHarness;
  let api: ReturnType<typeof client>;
  let other: ReturnType<typeof client>;
  let credential: { username: string; password: string };
  let db: ReturnType<typeof createDatabase>;

  beforeAll(async () => {
    harness = await startIdentityHarness({
      IDENTITY_LOCKOUT_THRESHOLD: '3',
      IDENTITY_AUTH_RATE_LIMIT_PER_MINUTE: '1000',
    });
    api = client(harness.identity.url);
    other = client(harness.guarded.url);
    db = createDatabase({ url: harness.databaseUrl, schema: 'identity' });
    credential = JSON.parse(fs.readFileSync(harness.bootstrapFile, 'utf8')) as typeof credential;
  });

  afterAll(async () => {
    await db?.destroy();
    await harness?.stop();
  });

  const login = async (): Promise<Pair> => {
    const response = await api.post('/v1/auth/bootstrap/login', {
      username: credential.username,
      password: credential.password,
    });
    expect(response.status).toBe(200);
    return response.body as unknown as Pair;
  };

  const eventTypes = async () =>
    (await sql<{ type: string }>`select type from events order by position`.execute(db)).rows.map(
      (r) => r.type,
    );

  it('writes a random one-time admin credential to a 0600 file, never a default', async () => {
    const stat = fs.statSync(harness.bootstrapFile);
    expect(stat.mode & 0o777).toBe(0o600);
    expect(credential.username).toBe('admin');
    expect(credential.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const stored = await sql<{
      password_hash: string;
    }>`select password_hash from bootstrap_credentials`.execute(db);
    expect(stored.rows[0].password_hash).toMatch(/^scrypt\$/);
    expect(stored.rows[0].password_hash).not.toContain(credential.password);
  });

  it('signs in, issues a short EdDSA access token another service accepts, and publishes its key', async () => {
    const pair = await login();
    expect(pair.expiresIn).toBeLessThanOrEqual(1800);
    const header = decodeProtectedHeader(pair.accessToken);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    const jwks = await api.get('/.well-known/jwks.json');
    expect((jwks.body.keys as { kid: string; d?: string }[]).map((k) => k.kid)).toContain(header.kid);
    expect((jwks.body.keys as { d?: string }[]).every((k) => k.d === undefined)).toBe(true);

    const me = await other.get(harness.guardedPath, pair.accessToken);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: 'user', sessionId: pair.sessionId });
    expect((await api.get('/v1/auth/whoami', pair.accessToken)).body).toMatchObject({
      sessionId: pair.sessionId,
    });
    expect(errorCode((await other.get(harness.guardedPath)).body)).toBe('token_missing');
  });

  it('rotates refresh tokens; a spent one revokes the family, and the other service refuses the session', async () => {
    const first = await login();
    const second = (await api.post('/v1/auth/refresh', { refreshToken: first.refreshToken }))
      .body as unknown as Pair;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.sessionId).toBe(first.sessionId);
    expect((await other.get(harness.guardedPath, second.accessToken)).status).toBe(200);

    const reuse = await api.post('/v1/auth/refresh', { refreshToken: first.refreshToken });
    expect(reuse.status).toBe(401);
    expect(errorCode(reuse.body)).toBe('refresh_token_reused');
    // The newest token of the family is dead too.
    const after = await api.post('/v1/auth/refresh', { refreshToken: second.refreshToken });
    expect(errorCode(after.body)).toBe('refresh_token_invalid');
    await waitFor(
      async () =>
        errorCode((await other.get(harness.guardedPath, second.accessToken)).body) === 'session_revoked',
      {
        description: 'the guarded service refusing the revoked session',
      },
    );
    expect(await eventTypes()).toEqual(
      expect.arrayContaining(['palisade.identity.refresh_token.reuse_detected.v1']),
    );
  });

  it('lets only one of two concurrent uses of the same refresh token through', async () => {
    const pair = await login();
    const results = await Promise.all([
      api.post('/v1/auth/refresh', { refreshToken: pair.refreshToken }),
      api.post('/v1/auth/refresh', { refreshToken: pair.refreshToken }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(results.some((r) => errorCode(r.body) === 'refresh_token_reused')).toBe(true);
  });

  it('logs out: identity refuses the session at once, other services soon after, and its refresh token is dead', async () => {
    const pair = await login();
    expect((await api.post('/v1/auth/logout', undefined, pair.accessToken)).status).toBe(204);
    // Identity itself refuses the session at once; other services learn it from session.revoked.
    expect(errorCode((await api.get('/v1/auth/whoami', pair.accessToken)).body)).toBe('session_revoked');
    await waitFor(
      async () =>
        errorCode((await other.get(harness.guardedPath, pair.accessToken)).body) === 'session_revoked',
      {
        description: 'logout reaching the guarded service',
      },
    );
    expect(errorCode((await api.post('/v1/auth/refresh', { refreshToken: pair.refreshToken })).body)).toBe(
      'refresh_token_invalid',
    );
  });

  it('a service that starts after a revocation refuses the session from its first request', async () => {
    const pair = await login();
    expect((await api.post('/v1/auth/logout', undefined, pair.accessToken)).status).toBe(204);
    await waitFor(
      async () =>
        errorCode((await other.get(harness.guardedPath, pair.accessToken)).body) === 'session_revoked',
      {
        description: 'the running guarded service refusing the session',
      },
    );
    const late = guardedService();
    const started = await startPalisade({
      services: [late.service],
      env: { ...harness.env, ...(await harness.logins.serviceEnv([late.service])) },
    });
    try {
      const first = await client(started.url).get(late.path, pair.accessToken);
      expect(first.status).toBe(401);
      expect(errorCode(first.body)).toBe('session_revoked');
    } finally {
      await started.stop();
    }
  });

  it('lets the admin revoke a session and refuses ids that are not sessions', async () => {
    const admin = await login();
    const victim = await login();
    expect(
      (await api.post(`/v1/sessions/${victim.sessionId}/revoke`, undefined, admin.accessToken)).status,
    ).toBe(204);
    await waitFor(
      async () =>
        errorCode((await other.get(harness.guardedPath, victim.accessToken)).body) === 'session_revoked',
      {
        description: 'admin revocation reaching the guarded service',
      },
    );
    expect(errorCode((await api.post('/v1/sessions/nope/revoke', undefined, admin.accessToken)).body)).toBe(
      'session_not_found',
    );
    expect(errorCode((await api.post('/v1/sessions/..%2f/revoke', undefined, admin.accessToken)).body)).toBe(
      'invalid_session_id',
    );
  });

  it('rotates the signing key: old tokens keep working, new ones use the new key, both keys are in the JWKS', async () => {
    const before = await login();
    const oldKid = decodeProtectedHeader(before.accessToken).kid;
    expect((await other.get(harness.guardedPath, before.accessToken)).status).toBe(200);
    const rotated = await api.post('/v1/signing-keys/rotate', undefined, before.accessToken);
    expect(rotated.status).toBe(200);
    const after = await login();
    expect(decodeProtectedHeader(after.accessToken).kid).toBe(rotated.body.kid);
    const newKid = decodeProtectedHeader(after.accessToken).kid;
    expect(newKid).not.toBe(oldKid);
    const kids = ((await api.get('/.well-known/jwks.json')).body.keys as { kid: string }[]).map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
    // The guarded service refetches the JWKS when it sees signing_key.rotated.
    await waitFor(async () => (await other.get(harness.guardedPath, after.accessToken)).status === 200, {
      description: 'the guarded service accepting a token signed with the new key',
    });
    expect((await other.get(harness.guardedPath, before.accessToken)).status).toBe(200);
    expect(await eventTypes()).toEqual(expect.arrayContaining(['palisade.identity.signing_key.rotated.v1']));
  });

  it('locks an account after repeated failures, even for the right password, and records login.failed', async () => {
    for (let i = 0; i < 2; i++) {
      const wrong = await api.post('/v1/auth/bootstrap/login', { username: 'admin', password: `wrong-${i}` });
      expect(errorCode(wrong.body)).toBe('invalid_credentials');
    }
    const third = await api.post('/v1/auth/bootstrap/login', { username: 'admin', password: 'wrong-2' });
    expect(third.status).toBe(429);
    expect(errorCode(third.body)).toBe('account_locked');
    const right = await api.post('/v1/auth/bootstrap/login', {
      username: 'admin',
      password: credential.password,
    });
    expect(errorCode(right.body)).toBe('account_locked');
    const failures = await sql<{ envelope: { data: Record<string, unknown> } }>`
      select envelope from events where type = 'palisade.identity.login.failed.v1'`.execute(db);
    expect(failures.rows.length).toBe(3);
    expect(JSON.stringify(failures.rows)).not.toContain('wrong-');
  });
});
