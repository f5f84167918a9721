import fs from 'node:fs';
import { ConfigError } from '@palisade/config';
import { createDatabase } from '@palisade/persistence';
import { loadServiceConfigs, startPalisade } from '@palisade/runtime';
import { waitFor } from '@palisade/testing';
import { sql } from 'kysely';
import { identityService } from '../src';
import { client, errorCode, IdentityHarness, startIdentityHarness } from './identity.fixture';

describe('identity: API tokens and demo mode', () => {
  let harness: IdentityHarness;
  let api: ReturnType<typeof client>;
  let other: ReturnType<typeof client>;
  let db: ReturnType<typeof createDatabase>;
  let access: string;

  beforeAll(async () => {
    harness = await startIdentityHarness({ IDENTITY_AUTH_RATE_LIMIT_PER_MINUTE: '1000' });
    api = client(harness.identity.url);
    other = client(harness.guarded.url);
    db = createDatabase({ url: harness.databaseUrl, schema: 'identity' });
    const { username, password } = JSON.parse(fs.readFileSync(harness.bootstrapFile, 'utf8')) as Record<
      string,
      string
    >;
    access = (await api.post('/v1/auth/bootstrap/login', { username, password })).body.accessToken as string;
  });

  afterAll(async () => {
    await db?.destroy();
    await harness?.stop();
  });

  const issue = (body: Record<string, unknown>) =>
    api.post(
      '/v1/api-tokens',
      { name: 'ci', orgId: 'org-a', scope: 'read', expiresInDays: 30, ...body },
      access,
    );

  it('shows a token once, stores only its hash, lists it without the secret, and other services accept it', async () => {
    const issued = await issue({ scope: 'write' });
    expect(issued.status).toBe(201);
    const token = issued.body.token as string;
    expect(token).toMatch(/^pal_at_[A-Za-z0-9_-]{43}$/);
    const listed = await api.get('/v1/api-tokens', access);
    expect(JSON.stringify(listed.body)).not.toContain(token);
    expect((listed.body.items as { id: string }[]).map((t) => t.id)).toContain(issued.body.id);
    const everything = await sql`select * from api_tokens`.execute(db);
    const events = await sql`select envelope from events`.execute(db);
    expect(JSON.stringify([everything.rows, events.rows])).not.toContain(token.slice(7));

    const me = await other.get(harness.guardedPath, token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      kind: 'api_token',
      orgId: 'org-a',
      scope: 'write',
      tokenId: issued.body.id,
    });
    // An API token cannot mint more API tokens.
    expect(
      errorCode(
        (
          await api.post(
            '/v1/api-tokens',
            { name: 'x', orgId: 'org-a', scope: 'read', expiresInDays: 1 },
            token,
          )
        ).body,
      ),
    ).toBe('forbidden');
  });

  it('revokes a token: every service refuses it from then on', async () => {
    const issued = await issue({});
    const token = issued.body.token as string;
    expect((await other.get(harness.guardedPath, token)).status).toBe(200);
    expect(
      (await api.post(`/v1/api-tokens/${issued.body.id as string}/revoke`, undefined, access)).status,
    ).toBe(204);
    expect(errorCode((await api.get('/v1/auth/whoami', token)).body)).toBe('api_token_invalid');
    await waitFor(
      async () => errorCode((await other.get(harness.guardedPath, token)).body) === 'api_token_invalid',
      {
        description: 'the guarded service refusing the revoked API token',
      },
    );
    expect(errorCode((await api.post('/v1/api-tokens/nope/revoke', undefined, access)).body)).toBe(
      'api_token_not_found',
    );
  });

  it('refuses expired tokens and invalid requests', async () => {
    const issued = await issue({});
    await sql`update api_tokens set expires_at = now() - interval '1 second' where token_id = ${issued.body.id as string}`.execute(
      db,
    );
    expect(errorCode((await api.get('/v1/auth/whoami', issued.body.token as string)).body)).toBe(
      'api_token_invalid',
    );
    for (const bad of [
      { scope: 'admin' },
      { orgId: 'a.b' },
      { orgId: 'system' },
      { expiresInDays: 0 },
      { expiresInDays: 366 },
      { extra: 1 },
    ])
      expect(errorCode((await issue(bad)).body)).toBe('invalid_api_token');
  });

  it('accepts static demo tokens in demo mode only, and production refuses to start with them', async () => {
    const demo = await startPalisade({
      services: [identityService],
      env: {
        ...harness.env,
        PALISADE_MODE: 'demo',
        PALISADE_DEMO_TOKENS: 'writer:writer-token-0123456789ab,reader:reader-token-0123456789ab',
      },
    });
    try {
      const demoApi = client(demo.url);
      expect((await demoApi.get('/v1/auth/whoami', 'reader-token-0123456789ab')).body).toEqual({
        kind: 'demo',
        role: 'reader',
      });
      expect((await demoApi.get('/v1/auth/whoami', 'writer-token-0123456789ab')).body).toEqual({
        kind: 'demo',
        role: 'writer',
      });
      expect(errorCode((await demoApi.get('/v1/auth/whoami', 'writer-token-0123456789ac')).body)).toBe(
        'token_malformed',
      );
    } finally {
      await demo.stop();
    }
    expect(errorCode((await api.get('/v1/auth/whoami', 'writer-token-0123456789ab')).body)).toBe(
      'token_malformed',
    );
    expect(() =>
      loadServiceConfigs([identityService], {
        ...harness.env,
        PALISADE_MODE: 'production',
        PALISADE_DEMO_TOKENS: 'writer:writer-token-0123456789ab',
      }),
    ).toThrow(ConfigError);
  });
});
