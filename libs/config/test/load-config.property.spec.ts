import fc from 'fast-check';
import { z } from 'zod';
import { baseConfigSchema, ConfigError, loadConfig, sensitive, serviceConfigSchema } from '../src';
import { Environment } from '../src/load-config';
import { devEnv, productionEnv } from './config.fixture';

const serviceSchema = serviceConfigSchema('devlink', {
  DEVLINK_SIGNING_SECRET: sensitive(z.string().min(8)).optional(),
});
const schemas: Record<string, z.ZodType> = { base: baseConfigSchema, devlink: serviceSchema };
const schemaName = fc.constantFrom(...Object.keys(schemas));

const KNOWN_KEYS = [
  'PALISADE_MODE',
  'LOG_LEVEL',
  'HTTP_HOST',
  'HTTP_PORT',
  'DATABASE_URL',
  'NATS_URL',
  'NATS_USER',
  'NATS_PASSWORD',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_SERVICE_NAME',
  'PALISADE_DEMO_TOKENS',
  'PALISADE_OIDC_ISSUER',
  'DEVLINK_NATS_USER',
  'DEVLINK_NATS_PASSWORD',
  'DEVLINK_DATABASE_URL',
  'DEVLINK_SIGNING_SECRET',
];
const INTERESTING_VALUES = [
  '',
  ' ',
  'dev',
  'demo',
  'production',
  'info',
  '0',
  '8080',
  '65536',
  '127.0.0.1',
  'nats://127.0.0.1:4222',
  'nats://u:p@h:1,',
  'postgres://u:p@h/db',
  'postgres://u@h/db',
  'https://login.example.com',
  'http://127.0.0.1:5556',
  'writer:0123456789abcdefgh',
  'writer:x,reader:y',
  '%zz',
  '\u0000',
  '💥',
  'toString',
  '__proto__',
  'constructor',
];

const anyValue = fc.oneof(
  fc.constantFrom(...INTERESTING_VALUES),
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.webUrl(),
);
const anyEnv: fc.Arbitrary<Environment> = fc.dictionary(
  fc.oneof(fc.constantFrom(...KNOWN_KEYS), fc.string()),
  fc.option(anyValue, { nil: undefined }),
);

/** Secrets that are long enough that finding one inside ordinary message text would be a real leak. */
const secretArb = fc.string({
  minLength: 10,
  maxLength: 48,
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$*'),
});

function outcome(schema: z.ZodType, env: Environment): ConfigError | 'ok' {
  try {
    loadConfig(schema, env);
    return 'ok';
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

describe('loadConfig properties', () => {
  it('never throws anything but a ConfigError', () => {
    fc.assert(
      fc.property(schemaName, anyEnv, (name, env) => {
        outcome(schemas[name], env);
      }),
      { numRuns: 500 },
    );
  });

  it('never puts a sensitive value in an error message', () => {
    fc.assert(
      fc.property(
        schemaName,
        fc.constantFrom('dev', 'demo', 'production', 'bogus'),
        fc.record({ db: secretArb, nats: secretArb, own: secretArb, demo: secretArb, signing: secretArb }),
        fc.record({
          brokenDbUrl: fc.boolean(),
          missingUser: fc.boolean(),
          demo: fc.constantFrom('ok', 'short', 'badRole', 'noRole', 'shared'),
        }),
        (name, mode, secrets, damage) => {
          const env: Environment = {
            PALISADE_MODE: mode,
            DATABASE_URL: damage.brokenDbUrl
              ? `mysql://palisade:${secrets.db}@db/palisade`
              : `postgres://palisade:${encodeURIComponent(secrets.db)}@db/palisade`,
            NATS_USER: damage.missingUser ? undefined : 'palisade',
            NATS_PASSWORD: secrets.nats,
            DEVLINK_NATS_PASSWORD: secrets.own,
            DEVLINK_SIGNING_SECRET: secrets.signing,
            PALISADE_DEMO_TOKENS: {
              ok: `writer:${secrets.demo}, reader:x${secrets.demo}`,
              short: `writer:${secrets.demo.slice(0, 12)}`,
              badRole: `admin:${secrets.demo}`,
              noRole: secrets.demo,
              shared: `writer:x${secrets.demo},reader:x${secrets.demo}`,
            }[damage.demo],
            HTTP_PORT: 'not-a-port',
          };
          const result = outcome(schemas[name], env);
          expect(result).not.toBe('ok');
          const text = JSON.stringify((result as ConfigError).problems) + (result as ConfigError).message;
          for (const secret of [...Object.values(secrets), secrets.demo.slice(0, 12), `x${secrets.demo}`])
            expect(text).not.toContain(secret);
        },
      ),
      { numRuns: 300 },
    );
  });

  /** For each field, values that are wrong whatever else is set. */
  const BAD_VALUES: Record<string, string[]> = {
    PALISADE_MODE: ['prod', 'DEV', 'staging'],
    LOG_LEVEL: ['verbose', 'INFO', '10'],
    HTTP_HOST: ['http://0.0.0.0', 'a b', 'host/path'],
    HTTP_PORT: ['-1', '65536', 'http', '80.5'],
    DATABASE_URL: ['mysql://u:p@h/db', 'not a url', 'postgres://'],
    NATS_URL: ['http://n:4222', 'nats://a:1,,nats://b:2', 'nats://u:p@n:4222'],
    OTEL_EXPORTER_OTLP_ENDPOINT: ['grpc://c:4317', 'collector'],
    PALISADE_OIDC_ISSUER: ['http://login.example.com', 'https://login.example.com/#x', 'issuer'],
    PALISADE_DEMO_TOKENS: ['admin:0123456789abcdefgh', 'writer:short', 'token-without-role-0123456789'],
  };

  it('reports every bad field: n bad fields give n problems, one per field', () => {
    fc.assert(
      fc.property(
        fc
          .subarray(Object.keys(BAD_VALUES), { minLength: 1 })
          .chain((keys) =>
            fc.tuple(fc.constant(keys), fc.tuple(...keys.map((key) => fc.constantFrom(...BAD_VALUES[key])))),
          ),
        ([keys, values]) => {
          const env = {
            ...devEnv({ PALISADE_MODE: 'demo' }),
            ...Object.fromEntries(keys.map((key, i) => [key, values[i]])),
          };
          const result = outcome(baseConfigSchema, env);
          expect(result).toBeInstanceOf(ConfigError);
          const problems = (result as ConfigError).problems;
          expect(problems.map((p) => p.key).sort()).toEqual([...keys].sort());
          expect((result as ConfigError).message.split('\n')[0]).toBe(
            `${keys.length} config ${keys.length === 1 ? 'error' : 'errors'} found:`,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  /** In production, each of these breaks exactly one rule. */
  const PRODUCTION_BREAKS: Record<string, Environment> = {
    PALISADE_DEMO_TOKENS: { PALISADE_DEMO_TOKENS: 'writer:0123456789abcdefgh' },
    PALISADE_OIDC_ISSUER: { PALISADE_OIDC_ISSUER: undefined },
    NATS_PASSWORD: { NATS_PASSWORD: 'changeme' },
    DATABASE_URL: { DATABASE_URL: 'postgres://palisade:Password123@db/palisade' },
    HTTP_PORT: { HTTP_PORT: 'x' },
    LOG_LEVEL: { LOG_LEVEL: 'chatty' },
  };

  it('reports every production problem: n broken rules give n problems', () => {
    fc.assert(
      fc.property(fc.subarray(Object.keys(PRODUCTION_BREAKS), { minLength: 1 }), (keys) => {
        const env = productionEnv(Object.assign({}, ...keys.map((key) => PRODUCTION_BREAKS[key])));
        const result = outcome(baseConfigSchema, env);
        expect(result).toBeInstanceOf(ConfigError);
        expect((result as ConfigError).problems.map((p) => p.key).sort()).toEqual([...keys].sort());
        for (const problem of (result as ConfigError).problems) expect(problem.message).not.toMatch(/\n/);
      }),
      { numRuns: 200 },
    );
  });
});
