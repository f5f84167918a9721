import type { DestinationStream } from 'pino';
import { createLogger, PinoNestLogger, REDACTED_KEYS } from '../src';

/** A pino destination that keeps every line in memory. */
function memoryStream(): DestinationStream & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

const CANARY = 'CANARY-7f3a9c1e5b';
const base64url = (value: string) => Buffer.from(value).toString('base64url');
const JWT_PAYLOAD = base64url(JSON.stringify({ sub: CANARY, org: 'org-1' }));
const JWT = `eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.${JWT_PAYLOAD}.MEUCIQD3k9x_sig-${CANARY.toLowerCase()}`;
const NOT_SECRET = 'visible-7d1e';

/** Nests `value` under `key` below `parents` levels of objects: { l1: { l2: { key: value } } }. */
function nested(key: string, value: unknown, parents: number): Record<string, unknown> {
  let result: Record<string, unknown> = { [key]: value, keep: NOT_SECRET };
  for (let level = parents; level >= 1; level--) result = { [`l${level}`]: result };
  return result;
}

describe('createLogger redaction', () => {
  let out: ReturnType<typeof memoryStream>;
  beforeEach(() => {
    out = memoryStream();
  });

  function written(): string {
    for (const line of out.lines) expect(() => JSON.parse(line)).not.toThrow();
    return out.lines.join('');
  }

  it('plants a canary in every redacted shape and never writes it', () => {
    const logger = createLogger({ service: 'canary', level: 'trace', destination: out });

    // Every redacted key, at the top and under 1..4 levels of parents, as strings and as objects.
    for (const key of REDACTED_KEYS) {
      for (let parents = 0; parents <= 4; parents++) {
        logger.info(nested(key, CANARY, parents), 'key %s at depth %d', key, parents);
        logger.info(nested(key, { value: CANARY, list: [CANARY] }, parents), 'object under %s', key);
      }
    }
    // Values inside secret/secrets objects.
    logger.info({ secret: { name: 'db', value: CANARY } }, 'secret object');
    logger.info({ secrets: [{ name: 'DB_PASSWORD', value: CANARY }], keep: NOT_SECRET }, 'secrets list');
    logger.info({ inputs: { secrets: { DB_PASSWORD: CANARY } } }, 'secrets map');
    // HTTP request and response shapes.
    logger.info({
      req: {
        method: 'GET',
        url: '/x',
        headers: { authorization: `Bearer ${CANARY}`, cookie: `sid=${CANARY}`, host: NOT_SECRET },
      },
    });
    logger.info({ res: { statusCode: 200, headers: { 'set-cookie': [`sid=${CANARY}; HttpOnly`] } } });
    logger.info({ err: { response: { headers: { Authorization: `Basic ${base64url(`u:${CANARY}`)}` } } } });
    // Free text: messages, errors, stacks, JWTs, URL passwords, key=value and JSON pairs.
    logger.info(`calling upstream with Authorization: Bearer ${CANARY}`);
    logger.warn(`token looked like ${JWT} and was rejected`);
    logger.error(new Error(`upstream said Bearer ${CANARY} is invalid`));
    logger.error({ err: new Error(`refresh failed for ${JWT}`) }, 'refresh failed');
    logger.error({ err: new Error(`connect postgres://palisade:${CANARY}@db:5432/palisade failed`) });
    logger.info(`GET /callback?code=abc&access_token=${CANARY}&state=x`);
    logger.info(`body was {"user":"alice","password":"${CANARY}"}`);
    logger.info('user %j logged in', { name: 'alice', password: CANARY, keep: NOT_SECRET });
    logger.info('token %s', `Bearer ${CANARY}`);
    // Beyond the path depth: string values of secret-named keys are still caught on the line.
    logger.info({
      a: { b: { c: { d: { e: { NATS_PASSWORD: CANARY, clientSecret: CANARY, accessToken: CANARY } } } } },
    });
    logger.info({ deep: [[[[[[[`Bearer ${CANARY}`, JWT]]]]]]] });
    // Child bindings.
    logger.child({ token: CANARY, session: { refreshToken: CANARY } }).info({ keep: NOT_SECRET }, 'child');

    const output = written();
    expect(out.lines.filter((line) => line.includes(CANARY) || line.includes(CANARY.toLowerCase()))).toEqual(
      [],
    );
    expect(out.lines.length).toBeGreaterThan(REDACTED_KEYS.length * 10);
    expect(output).not.toContain(CANARY);
    expect(output).not.toContain(CANARY.toLowerCase());
    expect(output).not.toContain(JWT_PAYLOAD);
    expect(output).not.toContain(base64url(`u:${CANARY}`));
    // Redaction hides secrets, not the rest of the line.
    expect(output).toContain(NOT_SECRET);
    expect(output).toContain('upstream said Bearer [redacted] is invalid');
    expect(output).toContain('postgres://palisade:[redacted]@db:5432/palisade');
  });

  it('never writes the canary through the Nest logger', () => {
    const nest = new PinoNestLogger(createLogger({ service: 'canary', level: 'trace', destination: out }));
    nest.log(`login with ${JWT}`, 'AuthController');
    nest.error(
      `refresh failed: Bearer ${CANARY}`,
      `Error: refresh failed: Bearer ${CANARY}\n    at handler (auth.ts:1:1)`,
      'AuthService',
    );
    nest.warn({ msg: 'config', password: CANARY, nested: { apiKey: CANARY } }, 'Bootstrap');
    nest.debug(new Error(`Bearer ${CANARY}`));
    nest.verbose('params', { token: CANARY }, 'Ctx');
    nest.fatal(`postgres://u:${CANARY}@h/db unreachable`);

    const output = written();
    expect(output).not.toContain(CANARY);
    expect(output).not.toContain(JWT_PAYLOAD);
  });
});

describe('createLogger', () => {
  it('writes JSON with the service, an ISO time and the level name', () => {
    const out = memoryStream();
    createLogger({ service: 'identity', destination: out }).info({ orgId: 'org-1' }, 'hello');
    const line = JSON.parse(out.lines[0]);
    expect(line).toMatchObject({ level: 'info', service: 'identity', orgId: 'org-1', msg: 'hello' });
    expect(new Date(line.time).toISOString()).toBe(line.time);
  });

  it('honours the level', () => {
    const out = memoryStream();
    const logger = createLogger({ service: 's', level: 'warn', destination: out });
    logger.info('dropped');
    logger.warn('kept');
    expect(out.lines.map((l) => JSON.parse(l).msg)).toEqual(['kept']);
  });
});

describe('PinoNestLogger', () => {
  it('maps Nest calls to pino levels, with context and stack', () => {
    const out = memoryStream();
    const nest = new PinoNestLogger(createLogger({ service: 's', level: 'trace', destination: out }));
    nest.log('started', 'NestApplication');
    nest.error('failed', 'Error: failed\n    at x (y.ts:1:1)', 'ExceptionsHandler');
    nest.error('plain', 'SomeContext');
    nest.verbose('chatty');
    const lines = out.lines.map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ level: 'info', context: 'NestApplication', msg: 'started' });
    expect(lines[1]).toMatchObject({
      level: 'error',
      context: 'ExceptionsHandler',
      msg: 'failed',
      err: { stack: expect.stringContaining('at x') },
    });
    expect(lines[2]).toMatchObject({ level: 'error', context: 'SomeContext', msg: 'plain' });
    expect(lines[3]).toMatchObject({ level: 'trace', msg: 'chatty' });
  });
});
