import { randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { auditService } from '@palisade/audit';
import { authorizationService } from '@palisade/authorization';
import {
  AUDIT,
  AUTHORIZATION,
  DEVLINK,
  IDENTITY,
  PLACEMENT,
  resolveReplySchema,
  RUNTIME_SCHEDULER,
  SECRETS,
  SECRETS_RPC,
  upperSnake,
} from '@palisade/contracts';
import { generateBoxKeyPair, openBox } from '@palisade/crypto';
import { identityService } from '@palisade/identity';
import {
  contextStreamConfig,
  ensureStream,
  inboxPrefix,
  natsAuthorizationConfig,
  rpcSubject,
  servicePermissions,
} from '@palisade/messaging';
import { createLogger } from '@palisade/observability';
import { createDatabase } from '@palisade/persistence';
import { RunningPalisade, serviceLogins, startPalisade } from '@palisade/runtime';
import { secretsService } from '@palisade/secrets';
import { runtimeSchedulerStandIn, schedulerOf } from '@palisade/secrets/test/runtime-scheduler.fixture';
import { privateNats, testDatabase, uniqueId, waitFor } from '@palisade/testing';
import { sql } from 'kysely';
import { secretCommand } from '../src/commands/secret.command';
import { connect, NatsConnection } from 'nats';

const bin = path.resolve(__dirname, '..', 'bin', 'palisade.js');
const encoder = new TextEncoder();
const decoder = new TextDecoder();
type Json = Record<string, unknown>;

/**
 * Secrets through their public surfaces, with identity, authorization and audit running beside
 * them and the runtime-scheduler's events produced the way its service will: a canary value set
 * with the CLI (stdin), resolved sealed to a waking runtime, then searched for in every log line,
 * JetStream message, Postgres table (the audit log included), HTTP response and CLI output of
 * the run, byte for byte and in base64, base64url, hex and URL encoding: found nowhere.
 */
describe('secrets end to end: the CLI, the HTTP API, a wake, and a canary found nowhere', () => {
  const services = [
    identityService,
    authorizationService,
    secretsService,
    runtimeSchedulerStandIn,
    auditService,
  ];
  const canary = `c4n4ry ${randomBytes(12).toString('hex')} /+=?&é€`;
  const lines: string[] = [];
  const seen: string[] = [];
  const demo = { writer: `writer-${randomUUID()}`, reader: `reader-${randomUUID()}` };
  const passwords = Object.fromEntries(
    [...services.map((s) => s.context.context), 'admin'].map((name) => [name, randomUUID()]),
  );
  const orgId = uniqueId('org');
  let nats: Awaited<ReturnType<typeof privateNats>>;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let running: RunningPalisade;
  let dir: string;
  let admin: { token: string; userId: string };
  let scheduler: NatsConnection;
  let inspector: NatsConnection;

  beforeAll(async () => {
    nats = await privateNats(
      natsAuthorizationConfig([
        ...services.map((s) => ({
          user: s.context.context,
          password: passwords[s.context.context],
          permissions: servicePermissions(s.context),
        })),
        { user: 'admin', password: passwords.admin },
      ]),
    );
    database = await testDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-secrets-e2e-'));
    const env: Record<string, string> = {
      ...(await serviceLogins(database.url, database.name).serviceEnv(services)),
      NATS_URL: nats.url,
      HTTP_PORT: '0',
      LOG_LEVEL: 'trace',
      PALISADE_MODE: 'demo',
      PALISADE_DEMO_TOKENS: `writer:${demo.writer},reader:${demo.reader}`,
      IDENTITY_BOOTSTRAP_FILE: path.join(dir, 'bootstrap.json'),
      SECRETS_MASTER_KEY_FILE: path.join(dir, 'secrets-master.key'),
    };
    for (const s of services) {
      env[`${upperSnake(s.context.context)}_NATS_USER`] = s.context.context;
      env[`${upperSnake(s.context.context)}_NATS_PASSWORD`] = passwords[s.context.context];
    }
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    // The streams of the services not running here exist, as they do when every service runs.
    inspector = await connect({ servers: nats.url, user: 'admin', pass: passwords.admin });
    const jsm = await inspector.jetstreamManager();
    for (const context of [PLACEMENT, DEVLINK]) await ensureStream(jsm, contextStreamConfig(context));
    running = await startPalisade({ services, env, logger: createLogger({ level: 'trace', destination }) });
    scheduler = await connect({
      servers: nats.url,
      user: RUNTIME_SCHEDULER.context,
      pass: passwords[RUNTIME_SCHEDULER.context],
      inboxPrefix: inboxPrefix(RUNTIME_SCHEDULER),
    });

    const credential = JSON.parse(fs.readFileSync(path.join(dir, 'bootstrap.json'), 'utf8')) as Json;
    const login = await call('POST', '/v1/auth/bootstrap/login', {
      body: { username: credential.username, password: credential.password },
    });
    const token = login.body.accessToken as string;
    admin = {
      token,
      userId: (await call('GET', '/v1/auth/whoami', { bearer: token })).body.userId as string,
    };
    expect((await call('POST', '/v1/orgs', { body: { orgId, name: 'Acme' }, bearer: token })).status).toBe(
      201,
    );
    // A member who may read the workspace's secret metadata (developer), not write it.
    expect(
      (
        await call('POST', `/v1/orgs/${orgId}/members`, {
          body: { userId: 'demo:reader', role: 'member' },
          bearer: token,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call('PUT', `/v1/orgs/${orgId}/workspaces/api/grants/demo:reader`, {
          body: { grant: 'developer' },
          bearer: token,
        })
      ).status,
    ).toBe(200);
    // The CLI's stored session (what `palisade login` writes), for the spawned CLI and this process.
    process.env.PALISADE_CONFIG_DIR = path.join(dir, 'cli');
    fs.mkdirSync(path.join(dir, 'cli'), { mode: 0o700 });
    fs.writeFileSync(
      path.join(dir, 'cli', 'credentials.json'),
      JSON.stringify({
        url: running.url,
        kind: 'session',
        accessToken: token,
        accessExpiresAt: Date.now() + 600_000,
      }),
      { mode: 0o600 },
    );
  }, 120_000);

  afterAll(async () => {
    await scheduler?.close();
    await inspector?.close();
    await running?.stop();
    await database?.drop();
    await nats?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function call(
    method: string,
    url: string,
    options: { body?: unknown; raw?: Buffer | string; bearer?: string; contentType?: string } = {},
  ) {
    const hasBody = options.body !== undefined || options.raw !== undefined;
    const response = await fetch(`${running.url}${url}`, {
      method,
      headers: {
        ...(hasBody ? { 'content-type': options.contentType ?? 'application/json' } : {}),
        ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
      },
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    seen.push(text);
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
  }
  const code = (body: Json) => (body.error as { code?: string } | undefined)?.code;

  /** Runs `palisade ...args` with `stdin` piped in; its output is kept for the search. */
  function palisade(args: string[], stdin: Buffer | string = '') {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, PALISADE_CONFIG_DIR: path.join(dir, 'cli'), LOG_LEVEL: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // A command that stops reading early closes the pipe: that is its answer, not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('exit', (exitCode) => {
        seen.push(stdout, stderr);
        resolve({ code: exitCode, stdout, stderr });
      }),
    );
  }
  const where = ['--workspace', 'api', '--org'];

  async function resolve(runtimeId: string, sequence: number, inputs: string[]) {
    const key = generateBoxKeyPair();
    const reply = await scheduler.request(
      rpcSubject(SECRETS, SECRETS_RPC.resolve),
      encoder.encode(
        JSON.stringify({
          orgId,
          workspaceId: 'api',
          runtimeId,
          inputs,
          publicKey: key.publicKey,
          atLeast: sequence,
        }),
      ),
      { timeout: 5_000 },
    );
    const body = JSON.parse(decoder.decode(reply.data)) as Json;
    if ('error' in body) return body;
    const { sealed } = resolveReplySchema.parse(body);
    return JSON.parse(openBox(sealed, key.privateKey, runtimeId).toString('utf8')) as Json;
  }

  /** `palisade secret ...` in this process (stdin from `input`): its output, or the error it stopped with. */
  async function secret(args: string[], input: Buffer | string = '') {
    let stdout = '';
    try {
      const exit = await secretCommand(args, {
        stdin: Readable.from([Buffer.from(input)]),
        stdout: { write: (text: string) => (stdout += text) },
      });
      seen.push(stdout);
      return { exit, stdout };
    } catch (error) {
      seen.push(stdout, (error as Error).message);
      return { error: error as Error & { exitCode?: number } };
    }
  }

  it('sets with the CLI from stdin, lists metadata only, and refuses a value on the command line with a hint', async () => {
    const set = await palisade(['secret', 'set', 'DATABASE_URL', ...where, orgId], `${canary}\n`);
    expect(set).toMatchObject({ code: 0, stdout: `DATABASE_URL created in ${orgId}/api (version 1)\n` });
    const refused = await palisade(['secret', 'set', 'API_KEY', canary, ...where, orgId]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('never from the command line');
    expect(refused.stderr).toContain('printf %s "$VALUE" | palisade secret set NAME');

    for (const argv of [
      ['secret', 'set', `API_KEY=${canary}`, ...where, orgId],
      ['secret', 'set', 'API_KEY', '--value', canary, ...where, orgId],
      ['secret', 'set', 'API_KEY', canary],
    ]) {
      const { error } = await secret(argv.slice(1));
      expect({
        argv: argv.length,
        exitCode: error?.exitCode,
        hint: error?.message.includes('never from the command line'),
      }).toEqual({
        argv: argv.length,
        exitCode: 2,
        hint: true,
      });
    }
    const bad: Array<[Buffer | string, string]> = [
      [Buffer.from([0x61, 0xff, 0x62]), 'the value was not sent: The value is not valid UTF-8.'],
      ['\n', 'the value was not sent: The value is empty; a secret needs a value.'],
      [Buffer.alloc(1024 * 1024, 0x61), 'values are limited to 4096 bytes'],
      [`${canary}\u0000`, 'an environment variable cannot hold'],
    ];
    for (const [input, message] of bad)
      expect((await secret(['set', 'API_KEY', ...where, orgId], input)).error?.message).toContain(message);
    expect((await secret(['set', '../DATABASE_URL', ...where, orgId], 'x')).error?.exitCode).toBe(2);

    const list = await secret(['list', ...where, orgId, '--json']);
    expect(JSON.parse(list.stdout!)).toEqual([
      {
        name: 'DATABASE_URL',
        version: 1,
        backend: 'local',
        changedBy: admin.userId,
        changedAt: expect.any(String),
        createdAt: expect.any(String),
        backendState: 'ok',
      },
    ]);
  });

  it('checks secret.write and secret.read_metadata through authorization, and answers bad input with a 4xx that never echoes it', async () => {
    const base = `/v1/secrets/${orgId}/api`;
    const reader = demo.reader;
    expect((await call('GET', base, { bearer: reader })).status).toBe(200);
    const write = await call('PUT', `${base}/API_KEY`, { body: { value: canary }, bearer: reader });
    expect([write.status, code(write.body)]).toEqual([403, 'insufficient_role']);
    const stranger = await call('GET', base, { bearer: demo.writer });
    expect([stranger.status, code(stranger.body)]).toEqual([404, 'org_not_found']);
    expect((await call('GET', base)).status).toBe(401);
    expect((await call('PUT', `${base}/API_KEY`, { body: { value: canary } })).status).toBe(401);

    const bearer = admin.token;
    const cases: Array<[string, Parameters<typeof call>[2], number, string]> = [
      ['../../etc/passwd', { body: { value: canary } }, 404, 'not_found'],
      ['lower_case', { body: { value: canary } }, 400, 'invalid_request'],
      ['API..KEY', { body: { value: canary } }, 400, 'invalid_request'],
      ['API_KEY', { body: { value: canary, note: canary } }, 400, 'invalid_request'],
      ['API_KEY', { body: { value: 42 } }, 400, 'invalid_request'],
      ['API_KEY', { body: { value: '' } }, 400, 'empty_value'],
      ['API_KEY', { body: { value: `${canary}\u0000` } }, 400, 'value_contains_nul'],
      ['API_KEY', { body: { value: canary.repeat(200) } }, 413, 'value_too_large'],
      ['API_KEY', { body: { value: canary.repeat(30_000) } }, 413, 'payload_too_large'],
      ['API_KEY', { raw: `{"value":"${canary}\\ud800"}` }, 400, 'invalid_utf8'],
      [
        'API_KEY',
        {
          raw: Buffer.concat([
            Buffer.from(`{"value":"${canary}`),
            Buffer.from([0xff, 0xfe]),
            Buffer.from('"}'),
          ]),
        },
        400,
        'invalid_utf8',
      ],
      ['API_KEY', { raw: `{"value": "${canary}` }, 400, 'invalid_json'],
    ];
    for (const [name, options, status, expected] of cases) {
      const answer = await call('PUT', `${base}/${name}`, { ...options, bearer });
      expect({ name, status: answer.status, code: code(answer.body) }).toEqual({
        name,
        status,
        code: expected,
      });
    }
    expect((await call('DELETE', `${base}/NEVER_SET`, { bearer })).body).toMatchObject({
      error: { code: 'secret_not_found' },
    });
    expect(((await call('GET', base, { bearer })).body.secrets as Json[]).map((s) => s.name)).toEqual([
      'DATABASE_URL',
    ]);
  });

  it('resolves the value into a waking runtime only, records it, and fails a wake whose declared secret was deleted', async () => {
    const standIn = schedulerOf(running.app);
    await standIn.workspace(orgId, 'api', ['DATABASE_URL']);
    const wake = await standIn.wake(orgId, 'api');
    expect(await resolve(wake.runtimeId, wake.sequence, ['DATABASE_URL'])).toEqual({ DATABASE_URL: canary });
    expect(await resolve(wake.runtimeId, wake.sequence, ['API_KEY'])).toMatchObject({
      error: { code: 'undeclared_input' },
    });

    expect(await secret(['delete', 'DATABASE_URL', ...where, orgId])).toEqual({
      exit: 0,
      stdout: `DATABASE_URL deleted from ${orgId}/api\n`,
    });
    const later = await standIn.wake(orgId, 'api');
    expect(await resolve(later.runtimeId, later.sequence, ['DATABASE_URL'])).toEqual({
      error: {
        code: 'secret_missing',
        message:
          'no value is set for DATABASE_URL (never set, or deleted): set it with palisade secret set, or remove it from the manifest',
      },
    });

    // Everything secrets recorded reaches the audit log: names, versions, reasons.
    const audit = createDatabase({ url: database.url, schema: AUDIT.schema, poolSize: 1 });
    try {
      const types = await waitFor(
        async () => {
          const { rows } = await sql<{ type: string }>`
            select type from audit_log where org_id = ${orgId} and type like 'palisade.secrets.%' order by sequence`.execute(
            audit,
          );
          return rows.length >= 5 && rows.map((r) => r.type);
        },
        { description: 'the secrets events in the audit log', timeoutMs: 20_000 },
      );
      expect(types).toEqual([
        'palisade.secrets.secret.created.v1',
        'palisade.secrets.inputs.resolved.v1',
        'palisade.secrets.inputs.refused.v1',
        'palisade.secrets.secret.deleted.v1',
        'palisade.secrets.inputs.refused.v1',
      ]);
    } finally {
      await audit.destroy();
    }
  });

  it('leaves the canary nowhere: logs, JetStream, Postgres (audit log included), HTTP answers, CLI output', async () => {
    const forms = {
      raw: canary,
      base64: Buffer.from(canary).toString('base64'),
      base64url: Buffer.from(canary).toString('base64url'),
      hex: Buffer.from(canary).toString('hex'),
      'url-encoded': encodeURIComponent(canary),
      'form-encoded': new URLSearchParams({ v: canary }).toString().slice(2),
      'JSON-escaped': JSON.stringify(canary).slice(1, -1),
    };
    // Every message of every stream, headers included.
    const jsm = await inspector.jetstreamManager();
    const messages: string[] = [];
    for await (const stream of jsm.streams.list()) {
      for (
        let seq = stream.state.first_seq;
        seq <= stream.state.last_seq && stream.state.messages > 0;
        seq++
      ) {
        const message = await jsm.streams.getMessage(stream.config.name, { seq }).catch(() => undefined);
        if (message)
          messages.push(
            `${message.subject} ${message.header ? [...message.header].join(' ') : ''} ${decoder.decode(message.data)}`,
          );
      }
    }
    // Every row of every table of every schema.
    const db = createDatabase({ url: database.url, schema: 'public', poolSize: 1 });
    const tables: string[] = [];
    try {
      const { rows } = await sql<{ schema: string; name: string }>`
        select table_schema as schema, table_name as name from information_schema.tables
        where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'`.execute(
        db,
      );
      for (const t of rows) {
        const { rows: content } = await sql<{
          row: string;
        }>`select t::text as row from ${sql.id(t.schema, t.name)} t`.execute(db);
        tables.push(`${t.schema}.${t.name}: ${content.map((c) => c.row).join('\n')}`);
      }
    } finally {
      await db.destroy();
    }
    const stores: Record<string, string> = {
      'log lines': lines.join('\n'),
      'JetStream messages': messages.join('\n'),
      'Postgres tables': tables.join('\n'),
      'HTTP answers and CLI output': seen.join('\n'),
    };
    // The places searched hold what the run did (finding nothing in nothing proves nothing).
    expect(stores['log lines']).toContain('"service":"secrets"');
    expect(stores['JetStream messages']).toContain('palisade.secrets.inputs.resolved.v1');
    expect(stores['JetStream messages']).toContain(IDENTITY.context);
    expect(stores['JetStream messages']).toContain(AUTHORIZATION.context);
    expect(stores['Postgres tables']).toMatch(/audit\.audit_log: .*inputs\.resolved/s);
    expect(stores['Postgres tables']).toMatch(
      /secrets\.secrets: .*DATABASE_URL|secrets\.events: .*secret\.created/s,
    );
    expect(stores['HTTP answers and CLI output']).toContain('DATABASE_URL');
    for (const [where, content] of Object.entries(stores))
      for (const [form, value] of Object.entries(forms))
        expect({ where, form, found: content.includes(value) }).toEqual({ where, form, found: false });
  });
});
