import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { AuthzClient } from '@palisade/auth';
import { AUTHORIZATION, AUTHZ_RPC, DEVLINK } from '@palisade/contracts';
import type { AuthzCheck } from '@palisade/contracts';
import { inboxPrefix, natsAuthorizationConfig, rpcSubject, servicePermissions } from '@palisade/messaging';
import { RunningPalisade, serviceLogins, startPalisade } from '@palisade/runtime';
import { privateNats, testDatabase, uniqueId, waitFor } from '@palisade/testing';
import { connect, NatsConnection } from 'nats';
import { authorizationService } from '../src';
import { ElevationSweeper } from '../src/commands/elevation.sweeper';
import { OrganizationCommands } from '../src/commands/organization.commands';
import { AuthzViewProjection } from '../src/projections/authz-view.projection';

const PASSWORDS = { authorization: randomUUID(), devlink: randomUUID() };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe('authorization over NATS, with real NATS (least-privilege users) and Postgres', () => {
  let nats: Awaited<ReturnType<typeof privateNats>>;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let running: RunningPalisade;
  let caller: NatsConnection;
  let client: AuthzClient;
  let commands: OrganizationCommands;
  let databaseEnv: Record<string, string>;

  const env = () => ({
    ...databaseEnv,
    NATS_URL: nats.url,
    NATS_USER: 'authorization',
    NATS_PASSWORD: PASSWORDS.authorization,
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.PROBE_LOG ?? 'silent',
  });

  beforeAll(async () => {
    nats = await privateNats(
      natsAuthorizationConfig([
        {
          user: 'authorization',
          password: PASSWORDS.authorization,
          permissions: servicePermissions(AUTHORIZATION),
        },
        // Another service asks: it has only its own service's permissions.
        { user: 'devlink', password: PASSWORDS.devlink, permissions: servicePermissions(DEVLINK) },
      ]),
    );
    database = await testDatabase();
    databaseEnv = await serviceLogins(database.url, database.name).serviceEnv([authorizationService]);
    running = await startPalisade({ services: [authorizationService], env: env() });
    commands = running.app.get(OrganizationCommands, { strict: false });
    caller = await connect({
      servers: nats.url,
      user: 'devlink',
      pass: PASSWORDS.devlink,
      inboxPrefix: inboxPrefix(DEVLINK),
    });
    client = new AuthzClient(caller);
    await client.start();
  });

  afterAll(async () => {
    await client?.stop();
    await caller?.close();
    await running?.stop();
    await database?.drop();
    await nats?.stop();
  });

  const user = (userId: string) => ({ kind: 'user' as const, userId });
  const shell = (userId: string, orgId: string, workspaceId = 'ws-1'): AuthzCheck => ({
    subject: user(userId),
    action: 'workspace.open_shell',
    resource: { orgId, workspaceId },
  });

  async function orgWithDeveloper() {
    const orgId = uniqueId('org');
    await commands.execute(orgId, { type: 'createOrg', orgId, name: 'Acme', by: 'olga' }, 'user:olga');
    await commands.execute(
      orgId,
      { type: 'addMember', userId: 'dev', role: 'member', by: 'olga' },
      'user:olga',
    );
    await commands.execute(
      orgId,
      { type: 'addGrant', userId: 'dev', workspaceId: 'ws-1', grant: 'developer', by: 'olga' },
      'user:olga',
    );
    return orgId;
  }

  async function rawRequest(name: string, body: Uint8Array) {
    const reply = await caller.request(rpcSubject(AUTHORIZATION, name), body, { timeout: 2_000 });
    return JSON.parse(decoder.decode(reply.data)) as Record<string, unknown>;
  }

  it('decides from its events: the member with a grant may, a stranger and another org may not', async () => {
    const orgId = await orgWithDeveloper();
    await waitFor(async () => (await client.check(shell('dev', orgId))).allowed, {
      description: 'grant visible to checks',
    });
    expect(await client.check(shell('dev', orgId))).toEqual({ allowed: true, reason: 'grant:developer' });
    expect(await client.check(shell('dev', orgId, 'ws-2'))).toEqual({
      allowed: false,
      reason: 'insufficient_role',
    });
    expect(await client.check(shell('stranger', orgId))).toEqual({ allowed: false, reason: 'not_a_member' });
    expect(await client.check(shell('dev', 'some-other-org'))).toEqual({
      allowed: false,
      reason: 'unknown_organization',
    });
    expect(
      await client.checkMany([
        shell('dev', orgId),
        { subject: user('olga'), action: 'policy.change', resource: { orgId } },
        { subject: user('olga'), action: 'workspace.teleport', resource: { orgId } },
      ]),
    ).toEqual([
      { allowed: true, reason: 'grant:developer' },
      { allowed: true, reason: 'role:owner' },
      { allowed: false, reason: 'unknown_action' },
    ]);
  });

  it('revokes a removed member everywhere, the client cache included, and never flips back', async () => {
    const orgId = await orgWithDeveloper();
    await waitFor(async () => (await client.check(shell('dev', orgId))).allowed, {
      description: 'grant visible',
    });
    expect(client.cached).toBeGreaterThan(0);
    await commands.execute(orgId, { type: 'removeMember', userId: 'dev', by: 'olga' }, 'user:olga');
    await waitFor(async () => !(await client.check(shell('dev', orgId))).allowed, {
      description: 'removal reaches the client',
      timeoutMs: 5_000,
    });
    for (let i = 0; i < 20; i++)
      expect(await client.check(shell('dev', orgId))).toEqual({ allowed: false, reason: 'not_a_member' });
  });

  it('rejects malformed requests (fast-check) with a stable code, and keeps answering', async () => {
    const codes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.jsonValue({ maxDepth: 4 }).map((v) => encoder.encode(JSON.stringify(v))),
          fc
            .record({
              checks: fc.array(
                fc.record({
                  subject: fc.oneof(fc.jsonValue(), fc.record({ kind: fc.string(), userId: fc.string() })),
                  action: fc.oneof(fc.string(), fc.integer()),
                  resource: fc.oneof(fc.jsonValue(), fc.record({ orgId: fc.string({ maxLength: 80 }) })),
                }),
                { maxLength: 3 },
              ),
              atLeast: fc.oneof(fc.constant(undefined), fc.integer({ max: -1 }), fc.double()),
            })
            .map((v) => encoder.encode(JSON.stringify(v))),
        ),
        async (body) => {
          const reply = await rawRequest(AUTHZ_RPC.check, body);
          if ('decisions' in reply) {
            // A well-formed request that happened to be valid: it is answered, and never with an allow.
            for (const d of reply.decisions as Array<{ allowed: boolean }>) expect(d.allowed).toBe(false);
            return;
          }
          const error = reply.error as { code: string; message: string };
          expect(error.message.length).toBeGreaterThan(0);
          expect(['invalid_check', 'invalid_json', 'request_too_large']).toContain(error.code);
          codes.add(error.code);
        },
      ),
      { numRuns: 150, seed: 2026 },
    );
    expect(codes).toContain('invalid_check');
    expect(codes).toContain('invalid_json');
    const tooLarge = await rawRequest(
      AUTHZ_RPC.check,
      encoder.encode(JSON.stringify({ checks: 'x'.repeat(70_000) })),
    );
    expect(tooLarge).toEqual({ error: expect.objectContaining({ code: 'request_too_large' }) });
    const orgId = await orgWithDeveloper();
    await waitFor(async () => (await client.check(shell('dev', orgId))).allowed, {
      description: 'still answering',
    });
  });

  it('serves the effective policy pack: the pack plus what an admin added', async () => {
    const orgId = await orgWithDeveloper();
    await commands.execute(
      orgId,
      {
        type: 'setPolicyPack',
        pack: 'hipaa',
        extensions: { images: ['registry.acme.dev/tools:1'], networks: [], tools: ['jq'] },
        by: 'olga',
      },
      'user:olga',
    );
    const pack = await waitFor(
      async () => {
        const reply = await rawRequest(AUTHZ_RPC.policyPack, encoder.encode(JSON.stringify({ orgId })));
        return reply.pack === 'hipaa' && reply;
      },
      { description: 'hipaa pack visible' },
    );
    expect(pack.allowlists).toEqual({
      images: ['palisade/base:*', 'palisade/node:*', 'palisade/python:*', 'registry.acme.dev/tools:1'],
      networks: ['none'],
      tools: ['git', 'node', 'npm', 'python3', 'pip', 'make', 'bash', 'jq'],
    });
    expect(await rawRequest(AUTHZ_RPC.policyPack, encoder.encode(JSON.stringify({ orgId: 'nope' })))).toEqual(
      {
        error: { code: 'org_not_found', message: 'there is no such organization' },
      },
    );
  });

  it('ends an approved elevation at its expiry, and the sweep records the closeout', async () => {
    const orgId = await orgWithDeveloper();
    await commands.execute(
      orgId,
      { type: 'addMember', userId: 'ada', role: 'admin', by: 'olga' },
      'user:olga',
    );
    await commands.execute(orgId, { type: 'setRootPolicy', mode: 'break_glass', by: 'olga' }, 'user:olga');
    const elevationId = randomUUID();
    await commands.execute(
      orgId,
      {
        type: 'requestElevation',
        elevationId,
        workspaceId: 'ws-1',
        reason: 'the database is wedged',
        windowMinutes: 5,
        by: 'dev',
      },
      'user:dev',
    );
    await expect(
      commands.execute(orgId, { type: 'approveElevation', elevationId, by: 'dev' }, 'user:dev'),
    ).rejects.toMatchObject({ code: 'own_request', status: 403 });
    await commands.execute(orgId, { type: 'approveElevation', elevationId, by: 'ada' }, 'user:ada');
    const root: AuthzCheck = {
      subject: user('dev'),
      action: 'workspace.root_shell',
      resource: { orgId, workspaceId: 'ws-1' },
    };
    await waitFor(async () => (await client.check(root)).allowed, { description: 'elevation active' });
    // Six minutes later the sweep closes it out; the view (and the client, through the event) deny.
    const projection = running.app.get(AuthzViewProjection, { strict: false });
    const sweeper = running.app.get(ElevationSweeper, { strict: false });
    expect(await sweeper.sweep(Date.now() + 6 * 60_000)).toBe(1);
    await waitFor(() => projection.view.org(orgId)?.elevations.get(elevationId)?.status === 'closed', {
      description: 'closeout in the view',
    });
    expect(await client.check(root)).toEqual({ allowed: false, reason: 'no_active_elevation' });
    expect(await sweeper.sweep(Date.now() + 6 * 60_000)).toBe(0);
  });

  it('rebuilds the same decisions from the event store after a restart', async () => {
    const orgId = await orgWithDeveloper();
    const projection = running.app.get(AuthzViewProjection, { strict: false });
    await waitFor(() => projection.view.org(orgId)?.grants.get('dev')?.get('ws-1') === 'developer', {
      description: 'grant in the view',
    });
    const before = projection.view.sequence;
    await running.stop();
    running = await startPalisade({ services: [authorizationService], env: env() });
    commands = running.app.get(OrganizationCommands, { strict: false });
    const reloaded = running.app.get(AuthzViewProjection, { strict: false });
    expect(reloaded.view.sequence).toBeGreaterThanOrEqual(before);
    expect(reloaded.view.check(shell('dev', orgId), Date.now())).toEqual({
      allowed: true,
      reason: 'grant:developer',
    });
  });
});
