import { ConfigError } from '@palisade/config';
import { rpcSubject } from '@palisade/messaging';
import { TestClock, testDatabase, waitFor } from '@palisade/testing';
import { connect, NatsConnection } from 'nats';
import { RunningPalisade, serviceLogins, startPalisade } from '../src';
import { notesServices } from './notes.fixture';

describe('runtime: services on the backbone through the Nest transport', () => {
  const fixture = notesServices();
  const clock = new TestClock('2026-11-25T10:00:00Z');
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let running: RunningPalisade;
  let nc: NatsConnection;

  beforeAll(async () => {
    database = await testDatabase();
    running = await startPalisade({
      services: fixture.services,
      env: {
        ...(await serviceLogins(database.url, database.name).serviceEnv(fixture.services)),
        NATS_URL: process.env.NATS_URL,
        HTTP_PORT: '0',
        LOG_LEVEL: 'silent',
      },
      clock,
    });
    nc = await connect({ servers: process.env.NATS_URL });
  });

  afterAll(async () => {
    await nc?.close();
    await running?.stop();
    await database?.drop();
  });

  const post = (path: string, body: string, contentType = 'application/json') =>
    fetch(`${running.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });

  const errorCode = async (response: Response) =>
    ((await response.json()) as { error: { code: string } }).error.code;

  async function count(prefix: string): Promise<number> {
    const reply = await nc.request(
      rpcSubject(fixture.reader, 'count'),
      new TextEncoder().encode(JSON.stringify({ prefix })),
      { timeout: 2_000 },
    );
    return (JSON.parse(new TextDecoder().decode(reply.data)) as { count: number }).count;
  }

  it('turns an HTTP command into an event that an @OnEvent handler in another service projects once', async () => {
    const response = await post('/v1/notes', JSON.stringify({ noteId: 'first', text: 'hello' }));
    expect(response.status).toBe(201);
    await waitFor(async () => (await count('first')) === 1, {
      description: 'note projected by the reader service',
    });
    expect(running.transport.list().map((c) => c.name)).toEqual([`${fixture.reader.context}-notes`]);
  });

  it('answers bad input with a stable 4xx code, writes nothing, and never a 500', async () => {
    const invalidJson = await post('/v1/notes', '{"noteId": "x", ');
    expect(invalidJson.status).toBe(400);
    expect(invalidJson.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await invalidJson.json()).toEqual({
      type: 'urn:palisade:error:invalid_json',
      title: 'Bad Request',
      status: 400,
      code: 'invalid_json',
      detail: 'The request body is not valid JSON.',
      error: { code: 'invalid_json', message: 'The request body is not valid JSON.' },
    });

    const invalidNote = await post('/v1/notes', JSON.stringify({ noteId: 'Bad Id', text: '' }));
    expect(invalidNote.status).toBe(400);
    expect(await errorCode(invalidNote)).toBe('invalid_note');

    const duplicate = await post('/v1/notes', JSON.stringify({ noteId: 'first', text: 'again' }));
    expect(duplicate.status).toBe(409);
    expect(await errorCode(duplicate)).toBe('note_exists');

    const tooLarge = await post('/v1/notes', JSON.stringify({ noteId: 'big', text: 'x'.repeat(300_000) }));
    expect(tooLarge.status).toBe(413);
    expect(await errorCode(tooLarge)).toBe('payload_too_large');

    const missing = await fetch(`${running.url}/v1/nowhere`);
    expect(missing.status).toBe(404);
    expect(await errorCode(missing)).toBe('not_found');
    expect(await count('Bad')).toBe(0);
    expect(await count('big')).toBe(0);
  });

  it("gives every service the process's CLOCK and its own SERVICE_CONFIG", async () => {
    const before = (await (await fetch(`${running.url}/v1/notes/edge`)).json()) as {
      now: number;
      httpPort: number;
    };
    expect(before).toEqual({ now: Date.parse('2026-11-25T10:00:00Z'), httpPort: 0 });
    clock.advance(60_000);
    const after = (await (await fetch(`${running.url}/v1/notes/edge`)).json()) as { now: number };
    expect(after.now).toBe(before.now + 60_000);
  });

  it('sets security headers and serves health, readiness, metrics and the OpenAPI document', async () => {
    const health = await fetch(`${running.url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
    expect(health.headers.get('x-powered-by')).toBeNull();
    const ready = await fetch(`${running.url}/readyz`);
    expect(ready.status).toBe(200);
    const names = ((await ready.json()) as { checks: { name: string; ok: boolean }[] }).checks.map(
      (c) => c.name,
    );
    expect(names).toEqual(
      expect.arrayContaining([
        `${fixture.notes.context}:postgres`,
        `${fixture.notes.context}:nats`,
        `${fixture.reader.context}:nats`,
      ]),
    );
    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    expect(metrics).toMatch(/palisade_outbox_published_total\{service="notes[0-9a-f]+"\} [1-9]/);
    const openapi = (await (await fetch(`${running.url}/docs/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toContain('/v1/notes');
  });

  it('refuses to start on a schema that was not migrated, and says how to migrate it', async () => {
    const other = notesServices();
    const empty = await testDatabase();
    try {
      const env = await serviceLogins(empty.url, empty.name).serviceEnv([other.services[1]]);
      const unmigrated = `${other.notes.context.toUpperCase()}_DATABASE_URL`;
      await expect(
        startPalisade({
          services: other.services,
          env: {
            ...env,
            [unmigrated]: empty.url,
            NATS_URL: process.env.NATS_URL,
            HTTP_PORT: '0',
            LOG_LEVEL: 'silent',
          },
        }),
      ).rejects.toThrow(/schema notes[0-9a-f]+ is not migrated .*run `palisade migrate`/);
    } finally {
      await empty.drop();
    }
  });

  it('reports every configuration problem at once and starts nothing', async () => {
    let error: unknown;
    try {
      await startPalisade({
        services: fixture.services,
        env: { HTTP_PORT: 'eighty', NATS_URL: 'http://x', PALISADE_MODE: 'prod' },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const keys = (error as ConfigError).problems.map((p) => p.key).sort();
    expect(keys).toEqual(expect.arrayContaining(['DATABASE_URL', 'HTTP_PORT', 'NATS_URL', 'PALISADE_MODE']));
  });
});
