import fs from 'node:fs';
import { createDatabase } from '@palisade/persistence';
import fc from 'fast-check';
import { sql } from 'kysely';
import { IdentityHarness, startIdentityHarness } from './identity.fixture';

/**
 * fast-check over every identity endpoint's input: whatever arrives, the answer is a 4xx with
 * `{ error: { code, message } }`, never a 5xx, and nothing is written (only failed sign-ins are
 * recorded, by design: login.failed events and failure counters).
 */
describe('identity endpoints under fuzzing', () => {
  let harness: IdentityHarness;
  let db: ReturnType<typeof createDatabase>;
  let access: string;
  let base: string;

  beforeAll(async () => {
    harness = await startIdentityHarness({ IDENTITY_AUTH_RATE_LIMIT_PER_MINUTE: '100000' });
    base = harness.identity.url;
    db = createDatabase({ url: harness.databaseUrl, schema: 'identity' });
    const { username, password } = JSON.parse(fs.readFileSync(harness.bootstrapFile, 'utf8')) as Record<
      string,
      string
    >;
    const login = await fetch(`${base}/v1/auth/bootstrap/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    access = ((await login.json()) as { accessToken: string }).accessToken;
  });

  afterAll(async () => {
    await db?.destroy();
    await harness?.stop();
  });

  /** Everything a request could have written, except the records of failed sign-ins. */
  const snapshot = async () =>
    (
      await sql<{ state: string }>`
        select json_build_object(
          'users', (select count(*) from users), 'sessions', (select count(*) from sessions),
          'revoked', (select count(*) from sessions where revoked_at is not null),
          'refresh', (select count(*) from refresh_tokens), 'apiTokens', (select count(*) from api_tokens),
          'apiRevoked', (select count(*) from api_tokens where revoked_at is not null),
          'keys', (select count(*) from signing_keys), 'states', (select count(*) from login_states),
          'events', (select count(*) from events where type <> 'palisade.identity.login.failed.v1')
        )::text as state`.execute(db)
    ).rows[0].state;

  async function expectClientError(response: Response) {
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    expect(typeof body.error?.code).toBe('string');
    expect(typeof body.error?.message).toBe('string');
  }

  const hostileString = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.constantFrom(
      '',
      ' ',
      '../',
      '%00',
      '\u0000',
      'admin',
      'pal_rt_',
      'pal_at_',
      'eyJhbGciOiJub25lIn0.e30.',
      "' or 1=1 --",
    ),
  );
  const jsonBody = fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc
      .record(
        {
          username: hostileString,
          password: hostileString,
          refreshToken: hostileString,
          name: hostileString,
          orgId: hostileString,
          scope: hostileString,
          expiresInDays: fc.oneof(fc.integer(), fc.double(), hostileString),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
  );
  const authorization = fc.oneof(
    fc.constant(undefined),
    hostileString,
    hostileString.map((s) => `Bearer ${s}`),
    fc.string({ maxLength: 5000 }).map((s) => `Bearer ${s.replace(/\s/g, 'x')}`),
  );

  const send = (
    method: string,
    path: string,
    options: { body?: string; authorization?: string; contentType?: string } = {},
  ) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }),
        ...(options.authorization === undefined ? {} : { authorization: options.authorization }),
      },
      body: options.body,
    });

  it('answers every malformed body on the login, refresh and API-token endpoints with a 4xx and writes nothing', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/v1/auth/bootstrap/login',
          '/v1/auth/refresh',
          '/v1/api-tokens',
          '/v1/auth/oidc/handoff',
        ),
        jsonBody,
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
        async (path, body, contentType) => {
          await expectClientError(
            await send('POST', path, { body, contentType, authorization: `Bearer ${access}` }),
          );
        },
      ),
      { numRuns: 120 },
    );
    expect(await snapshot()).toBe(before);
  });

  it('answers every hostile credential on guarded endpoints with a 4xx and writes nothing', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          ['GET', '/v1/auth/whoami'],
          ['POST', '/v1/auth/logout'],
          ['GET', '/v1/api-tokens'],
          ['POST', '/v1/signing-keys/rotate'],
        ),
        authorization,
        async ([method, path], header) => {
          fc.pre(header === undefined || /^[\x20-\x7e]*$/.test(header));
          await expectClientError(await send(method, path, { authorization: header }));
        },
      ),
      { numRuns: 120 },
    );
    expect(await snapshot()).toBe(before);
  });

  it('answers every hostile path parameter and query with a 4xx and writes nothing', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/v1/sessions/%s/revoke',
          '/v1/api-tokens/%s/revoke',
          '/v1/auth/oidc/callback?%s',
          '/v1/auth/oidc/login?login_hint=%s',
        ),
        hostileString,
        async (template, value) => {
          const path = template.replace('%s', encodeURIComponent(value));
          await expectClientError(
            await send(template.includes('oidc') ? 'GET' : 'POST', path, {
              authorization: `Bearer ${access}`,
            }),
          );
        },
      ),
      { numRuns: 120 },
    );
    expect(await snapshot()).toBe(before);
  });
});
