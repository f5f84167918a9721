import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { auditService } from '@palisade/audit';
import { identityService } from '@palisade/identity';
import { createDatabase } from '@palisade/persistence';
import { RunningPalisade, serviceLogins, startPalisade } from '@palisade/runtime';
import { privateNats, testDatabase, uniqueId, waitFor } from '@palisade/testing';
import { sql } from 'kysely';
import { authorizationService } from '@palisade/authorization';

type Json = Record<string, unknown>;

/**
 * The HTTP API of authorization with real access tokens: identity runs beside it, signs the
 * bootstrap admin in, and authorization verifies the JWT against identity's JWKS over NATS.
 * Audit runs too: its query API asks authorization for audit.read.
 */
describe('authorization over HTTP, with real JWTs from identity', () => {
  let nats: Awaited<ReturnType<typeof privateNats>>;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let running: RunningPalisade;
  let dir: string;
  let token: string;
  let admin: string;

  beforeAll(async () => {
    nats = await privateNats();
    database = await testDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-authz-http-'));
    running = await startPalisade({
      services: [identityService, authorizationService, auditService],
      env: {
        ...(await serviceLogins(database.url, database.name).serviceEnv([
          identityService,
          authorizationService,
          auditService,
        ])),
        NATS_URL: nats.url,
        HTTP_PORT: '0',
        LOG_LEVEL: 'silent',
        IDENTITY_BOOTSTRAP_FILE: path.join(dir, 'bootstrap.json'),
        IDENTITY_KEY_ENCRYPTION_KEY_FILE: path.join(dir, 'identity-key-encryption.key'),
      },
    });
    const credential = JSON.parse(fs.readFileSync(path.join(dir, 'bootstrap.json'), 'utf8')) as Json;
    const login = await call('POST', '/v1/auth/bootstrap/login', {
      username: credential.username,
      password: credential.password,
    });
    expect(login.status).toBe(200);
    token = login.body.accessToken as string;
    admin = (await call('GET', '/v1/auth/whoami', undefined, token)).body.userId as string;
  });

  afterAll(async () => {
    await running?.stop();
    await database?.drop();
    await nats?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function call(method: string, url: string, body?: unknown, bearer?: string, raw?: string) {
    const response = await fetch(`${running.url}${url}`, {
      method,
      headers: {
        ...(body === undefined && raw === undefined ? {} : { 'content-type': 'application/json' }),
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
  }
  const code = (body: Json) => (body.error as { code?: string } | undefined)?.code;

  async function eventCount(): Promise<number> {
    const db = createDatabase({ url: database.url, schema: 'authorization' });
    try {
      const { rows } = await sql<{ n: number }>`select count(*)::int8 as n from events`.execute(db);
      return rows[0].n;
    } finally {
      await db.destroy();
    }
  }

  it('refuses requests without a valid token', async () => {
    expect((await call('POST', '/v1/orgs', { orgId: 'x', name: 'X' })).status).toBe(401);
    expect((await call('POST', '/v1/orgs', { orgId: 'x', name: 'X' }, 'not.a.jwt')).status).toBe(401);
  });

  it('creates an organization, manages members and grants, and answers checks for the caller', async () => {
    const orgId = uniqueId('org');
    expect((await call('POST', '/v1/orgs', { orgId, name: 'Acme' }, token)).status).toBe(201);
    expect((await call('POST', '/v1/orgs', { orgId, name: 'Again' }, token)).body).toMatchObject({
      error: { code: 'org_exists' },
    });
    expect(
      (await call('POST', `/v1/orgs/${orgId}/members`, { userId: 'dev', role: 'member' }, token)).status,
    ).toBe(201);
    expect(
      (await call('PUT', `/v1/orgs/${orgId}/workspaces/ws-1/grants/dev`, { grant: 'developer' }, token))
        .status,
    ).toBe(200);
    const org = await waitFor(
      async () => {
        const r = await call('GET', `/v1/orgs/${orgId}`, undefined, token);
        return r.status === 200 && JSON.stringify(r.body.members).includes('developer') && r.body;
      },
      { description: 'member and grant visible' },
    );
    expect(org.members).toEqual([
      { userId: admin, role: 'owner', grants: {} },
      { userId: 'dev', role: 'member', grants: { 'ws-1': 'developer' } },
    ]);
    const checks = await call(
      'POST',
      '/v1/authz/check',
      {
        checks: [
          { action: 'policy.change', resource: { orgId } },
          { action: 'workspace.root_shell', resource: { orgId, workspaceId: 'ws-1' } },
          { action: 'audit.read', resource: { orgId: 'someone-else' } },
        ],
      },
      token,
    );
    expect(checks.body).toEqual({
      decisions: [
        { allowed: true, reason: 'role:owner' },
        { allowed: false, reason: 'no_active_elevation' },
        { allowed: false, reason: 'unknown_organization' },
      ],
    });
    // The last owner stays.
    expect(code((await call('DELETE', `/v1/orgs/${orgId}/members/${admin}`, undefined, token)).body)).toBe(
      'last_owner',
    );
    const invitation = await call('POST', `/v1/orgs/${orgId}/invitations`, { role: 'reviewer' }, token);
    expect(invitation.status).toBe(201);
    expect(invitation.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('hides organizations from outsiders and keeps read-only API tokens from writing', async () => {
    const orgId = uniqueId('org');
    await call('POST', '/v1/orgs', { orgId, name: 'Acme' }, token);
    const issued = await call(
      'POST',
      '/v1/api-tokens',
      { name: 'ci', orgId, scope: 'read', expiresInDays: 1 },
      token,
    );
    expect(issued.status).toBe(201);
    const readToken = issued.body.token as string;
    await waitFor(async () => (await call('GET', `/v1/orgs/${orgId}`, undefined, readToken)).status === 200, {
      description: 'read token accepted',
    });
    expect(
      code((await call('PUT', `/v1/orgs/${orgId}/root-policy`, { mode: 'break_glass' }, readToken)).body),
    ).toBe('token_read_only');
    expect(code((await call('GET', '/v1/orgs/not-mine', undefined, token)).body)).toBe('org_not_found');
  });

  it("lets audit.read holders read their organization's audit log, and nobody else", async () => {
    const orgId = uniqueId('org');
    await call('POST', '/v1/orgs', { orgId, name: 'Acme' }, token);
    const page = await waitFor(
      async () => {
        const r = await call('GET', `/v1/audit/events?org=${orgId}`, undefined, token);
        return r.status === 200 && (r.body.items as unknown[]).length > 0 && r.body;
      },
      { description: 'org.created in the audit log, readable by its owner' },
    );
    expect((page.items as Array<{ type: string }>).map((e) => e.type)).toContain(
      'palisade.authorization.org.created.v1',
    );
    const other = await call('GET', '/v1/audit/events?org=not-my-org', undefined, token);
    expect(other).toMatchObject({ status: 403, body: { error: { code: 'audit_read_denied' } } });
    expect((await call('GET', `/v1/audit/events?org=${orgId}`)).status).toBe(401);
    expect(code((await call('GET', '/v1/audit/events', undefined, token)).body)).toBe('org_required');
  });

  it('answers hostile input (fast-check) with a 4xx and a stable code, writing nothing', async () => {
    const orgId = uniqueId('org');
    await call('POST', '/v1/orgs', { orgId, name: 'Acme' }, token);
    await waitFor(async () => (await call('GET', `/v1/orgs/${orgId}`, undefined, token)).status === 200, {
      description: 'organization visible',
    });
    const before = await eventCount();
    const routes: Array<[string, (segment: string) => string]> = [
      ['POST', () => '/v1/orgs'],
      ['POST', (s) => `/v1/orgs/${s}/members`],
      ['PUT', (s) => `/v1/orgs/${orgId}/members/${s}/role`],
      ['PUT', (s) => `/v1/orgs/${orgId}/workspaces/${s}/grants/dev`],
      ['PUT', () => `/v1/orgs/${orgId}/root-policy`],
      ['POST', () => `/v1/orgs/${orgId}/elevations`],
      ['POST', (s) => `/v1/orgs/${orgId}/elevations/${s}/approve`],
      ['PUT', () => `/v1/orgs/${orgId}/policy-pack`],
      ['POST', () => '/v1/authz/check'],
    ];
    const hostileBody = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
      fc
        .record({
          orgId: fc.string(),
          name: fc.oneof(fc.string(), fc.integer()),
          role: fc.string(),
          mode: fc.string(),
          pack: fc.string(),
          userId: fc.oneof(fc.string(), fc.constant('')),
          reason: fc.string({ maxLength: 5 }),
          // Every body schema is strict: an unknown field alone makes the request invalid.
          hostile: fc.constant(true),
        })
        .map((v) => JSON.stringify(v)),
    );
    const segment = fc.oneof(
      fc.constantFrom('..', '%2e%2e', 'A B', '__proto__', 'x'.repeat(300)),
      fc.string(),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: routes.length - 1 }),
        segment,
        hostileBody,
        async (r, s, body) => {
          const [method, url] = routes[r];
          const response = await call(method, url(encodeURIComponent(s)), undefined, token, body);
          expect(response.status).toBeGreaterThanOrEqual(400);
          expect(response.status).toBeLessThan(500);
          expect(code(response.body)).toMatch(/^[a-z_]+$/);
        },
      ),
      { numRuns: 120, seed: 42 },
    );
    expect(await eventCount()).toBe(before);
  });
});
