import { z } from 'zod';
import {
  baseConfigSchema,
  ConfigError,
  ConfigProblem,
  isSensitive,
  loadConfig,
  maskConfig,
  REDACTED,
  resolveServiceConnections,
  sensitive,
  serviceConfigSchema,
  serviceEnvPrefix,
} from '../src';
import { Environment } from '../src/load-config';
import { devEnv, productionEnv, STRONG } from './config.fixture';

/** The problems loadConfig reports for an environment (fails the test if it loads). */
function problemsOf(schema: z.ZodType, env: Environment): readonly ConfigProblem[] {
  try {
    loadConfig(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const keysOf = (problems: readonly ConfigProblem[]) => problems.map((p) => p.key).sort();

describe('loadConfig with the base schema', () => {
  it('applies the defaults', () => {
    const config = loadConfig(baseConfigSchema, devEnv());
    expect(config).toEqual({
      PALISADE_MODE: 'dev',
      LOG_LEVEL: 'info',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: 8080,
      DATABASE_URL: 'postgres://palisade:palisade@127.0.0.1:5432/palisade',
      NATS_URL: 'nats://127.0.0.1:4222',
    });
  });

  it('parses every setting and drops unrelated variables', () => {
    const config = loadConfig(
      baseConfigSchema,
      devEnv({
        LOG_LEVEL: 'debug',
        HTTP_HOST: '0.0.0.0',
        HTTP_PORT: '0',
        NATS_URL: 'nats://a:4222, b:4222,wss://c.example.com',
        NATS_USER: 'palisade',
        NATS_PASSWORD: 'pw',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_SERVICE_NAME: 'palisade-dev',
        PALISADE_OIDC_ISSUER: 'http://127.0.0.1:5556/dex',
        HOME: '/root',
      }),
    );
    expect(config).toMatchObject({
      LOG_LEVEL: 'debug',
      HTTP_HOST: '0.0.0.0',
      HTTP_PORT: 0,
      NATS_URL: 'nats://a:4222, b:4222,wss://c.example.com',
    });
    expect(config).not.toHaveProperty('HOME');
  });

  it('treats an empty variable as unset', () => {
    expect(
      loadConfig(baseConfigSchema, devEnv({ HTTP_PORT: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' })),
    ).toMatchObject({ HTTP_PORT: 8080 });
  });

  it('reports every problem at once, one line each, under "N config errors found:"', () => {
    let error: unknown;
    try {
      loadConfig(baseConfigSchema, {
        HTTP_PORT: '70000',
        LOG_LEVEL: 'loud',
        PALISADE_MODE: 'prod',
        NATS_URL: 'http://nats:4222',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(keysOf(problems)).toEqual(['DATABASE_URL', 'HTTP_PORT', 'LOG_LEVEL', 'NATS_URL', 'PALISADE_MODE']);
    const lines = message.split('\n');
    expect(lines[0]).toBe('5 config errors found:');
    expect(lines).toHaveLength(6);
    expect(message).toContain('  - DATABASE_URL: is required');
    expect(message).toContain('  - HTTP_PORT: must be a port number from 0 to 65535');
    expect(message).toContain('  - PALISADE_MODE: must be one of dev, demo, production');
    expect(message).toContain('LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent');
  });

  it('says "1 config error found:" for a single problem', () => {
    expect(() => loadConfig(baseConfigSchema, devEnv({ HTTP_PORT: 'http' }))).toThrow(
      /^1 config error found:\n {2}- HTTP_PORT: /,
    );
  });

  it.each(['-1', '1.5', '65536', '0x50', ' 80', 'eighty'])('refuses HTTP_PORT=%p', (port) => {
    expect(keysOf(problemsOf(baseConfigSchema, devEnv({ HTTP_PORT: port })))).toEqual(['HTTP_PORT']);
  });

  it.each(['mysql://u:p@h/db', 'not a url', 'postgres://', 'https://db.example.com'])(
    'refuses DATABASE_URL=%p',
    (url) => {
      expect(keysOf(problemsOf(baseConfigSchema, { DATABASE_URL: url }))).toEqual(['DATABASE_URL']);
    },
  );

  it('explains a bad DATABASE_URL with an example, without quoting its password', () => {
    const [problem] = problemsOf(baseConfigSchema, { DATABASE_URL: 'mysql://palisade:hunter22@db/palisade' });
    expect(problem.message).toBe(
      'must be a postgres:// or postgresql:// URL, e.g. postgres://palisade:<password>@127.0.0.1:5432/palisade',
    );
  });

  it('refuses NATS_URL entries that are empty, of another scheme, or carry credentials', () => {
    expect(
      problemsOf(baseConfigSchema, devEnv({ NATS_URL: 'nats://a:4222,,nats://b:4222' }))[0].message,
    ).toMatch(/entry 2 is empty/);
    expect(problemsOf(baseConfigSchema, devEnv({ NATS_URL: 'http://a:4222' }))[0].message).toMatch(
      /must be a nats:\/\//,
    );
    const [withCredentials] = problemsOf(
      baseConfigSchema,
      devEnv({ NATS_URL: 'nats://palisade:Sup3rSecretPassw0rd@a:4222' }),
    );
    expect(withCredentials).toMatchObject({ key: 'NATS_URL', fix: expect.stringContaining('NATS_PASSWORD') });
    expect(withCredentials.message).not.toContain('Sup3rSecretPassw0rd');
  });

  it('wants NATS_USER and NATS_PASSWORD together', () => {
    expect(problemsOf(baseConfigSchema, devEnv({ NATS_USER: 'palisade' }))).toEqual([
      {
        key: 'NATS_PASSWORD',
        message: 'is required when NATS_USER is set',
        fix: 'set NATS_PASSWORD, or unset NATS_USER',
      },
    ]);
    expect(keysOf(problemsOf(baseConfigSchema, devEnv({ NATS_PASSWORD: 'x' })))).toEqual(['NATS_USER']);
  });

  it('accepts an https issuer, or a local http one outside production', () => {
    for (const issuer of [
      'https://login.example.com',
      'http://127.0.0.1:5556/dex',
      'http://localhost:8081/realms/dev',
    ]) {
      expect(
        loadConfig(baseConfigSchema, devEnv({ PALISADE_OIDC_ISSUER: issuer })).PALISADE_OIDC_ISSUER,
      ).toBe(issuer);
    }
    for (const issuer of [
      'http://login.example.com',
      'https://login.example.com/?x=1',
      'login.example.com',
    ]) {
      expect(keysOf(problemsOf(baseConfigSchema, devEnv({ PALISADE_OIDC_ISSUER: issuer })))).toEqual([
        'PALISADE_OIDC_ISSUER',
      ]);
    }
  });
});

describe('demo tokens', () => {
  const writer = 'w-0123456789abcdef';
  const reader = 'r-fedcba9876543210';

  it('are parsed in demo mode', () => {
    const config = loadConfig(
      baseConfigSchema,
      devEnv({ PALISADE_MODE: 'demo', PALISADE_DEMO_TOKENS: `writer:${writer}, reader:${reader}` }),
    );
    expect(config.PALISADE_DEMO_TOKENS).toEqual({ writer, reader });
  });

  it('are an error in dev mode, with the fix', () => {
    expect(problemsOf(baseConfigSchema, devEnv({ PALISADE_DEMO_TOKENS: `writer:${writer}` }))).toEqual([
      {
        key: 'PALISADE_DEMO_TOKENS',
        message: 'static demo tokens are accepted only in demo mode',
        fix: 'set PALISADE_MODE=demo, or unset PALISADE_DEMO_TOKENS',
      },
    ]);
  });

  it.each([
    ['no role', writer],
    ['unknown role', `admin:${writer}`],
    ['short token', 'writer:abc'],
    ['token with a space', 'writer:abc def ghi jkl mno pqr'],
    ['repeated role', `writer:${writer},writer:${reader}`],
    ['shared token', `writer:${writer},reader:${writer}`],
  ])('refuse a malformed list (%s) without quoting it', (_case, value) => {
    const problems = problemsOf(
      baseConfigSchema,
      devEnv({ PALISADE_MODE: 'demo', PALISADE_DEMO_TOKENS: value }),
    );
    expect(keysOf(problems)).toEqual(['PALISADE_DEMO_TOKENS']);
    for (const token of [writer, reader, value]) expect(problems[0].message).not.toContain(token);
  });
});

describe('production mode', () => {
  it('starts with a complete, strong configuration', () => {
    expect(loadConfig(baseConfigSchema, productionEnv()).PALISADE_MODE).toBe('production');
  });

  it('refuses demo tokens', () => {
    const [problem] = problemsOf(
      baseConfigSchema,
      productionEnv({ PALISADE_DEMO_TOKENS: 'writer:w-0123456789abcdef' }),
    );
    expect(problem).toMatchObject({
      key: 'PALISADE_DEMO_TOKENS',
      message: expect.stringMatching(/refused in production/),
      fix: expect.stringMatching(/unset PALISADE_DEMO_TOKENS/),
    });
  });

  it('refuses a missing or non-https OIDC issuer', () => {
    expect(problemsOf(baseConfigSchema, productionEnv({ PALISADE_OIDC_ISSUER: undefined }))).toEqual([
      expect.objectContaining({ key: 'PALISADE_OIDC_ISSUER', message: 'is required in production mode' }),
    ]);
    for (const issuer of ['http://127.0.0.1:5556/dex', 'http://localhost:8081']) {
      expect(problemsOf(baseConfigSchema, productionEnv({ PALISADE_OIDC_ISSUER: issuer }))).toEqual([
        expect.objectContaining({
          key: 'PALISADE_OIDC_ISSUER',
          message: expect.stringMatching(/https:\/\/ URL in production/),
        }),
      ]);
    }
  });

  it('refuses NATS without credentials', () => {
    expect(
      problemsOf(baseConfigSchema, productionEnv({ NATS_USER: undefined, NATS_PASSWORD: undefined })),
    ).toEqual([
      {
        key: 'NATS_USER',
        message: 'NATS credentials are required in production mode',
        fix: 'set NATS_USER and NATS_PASSWORD, or a client certificate (NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE)',
      },
    ]);
  });

  it.each([
    'changeme',
    'CHANGEME',
    'palisadepalisadepalisadepalisade',
    'Password123!',
    'short-but-random-9f',
    'a'.repeat(40),
  ])('refuses the weak NATS password %p without quoting it', (password) => {
    const problems = problemsOf(baseConfigSchema, productionEnv({ NATS_PASSWORD: password }));
    expect(problems).toEqual([
      {
        key: 'NATS_PASSWORD',
        message: expect.stringMatching(/^NATS_PASSWORD is too weak for production: /),
        fix: expect.any(String),
      },
    ]);
    expect(problems[0].message).not.toContain(password);
  });

  it('refuses a DATABASE_URL whose password is weak or missing', () => {
    const weak = problemsOf(
      baseConfigSchema,
      productionEnv({ DATABASE_URL: 'postgres://palisade:palisade@db:5432/palisade' }),
    );
    expect(weak).toEqual([
      expect.objectContaining({
        key: 'DATABASE_URL',
        message: expect.stringMatching(/^the password in DATABASE_URL is too weak/),
      }),
    ]);
    const missing = problemsOf(
      baseConfigSchema,
      productionEnv({ DATABASE_URL: 'postgres://palisade@db:5432/palisade' }),
    );
    expect(missing).toEqual([
      expect.objectContaining({
        key: 'DATABASE_URL',
        message: 'the password in DATABASE_URL is missing; production mode needs one',
      }),
    ]);
  });

  it('reports every production problem together, each with a fix', () => {
    const problems = problemsOf(baseConfigSchema, {
      PALISADE_MODE: 'production',
      DATABASE_URL: 'postgres://palisade:changeme@db/palisade',
      PALISADE_DEMO_TOKENS: 'writer:w-0123456789abcdef',
    });
    expect(keysOf(problems)).toEqual([
      'DATABASE_URL',
      'NATS_USER',
      'PALISADE_DEMO_TOKENS',
      'PALISADE_OIDC_ISSUER',
    ]);
    for (const problem of problems) expect(problem.fix).toEqual(expect.any(String));
  });
});

describe('serviceConfigSchema', () => {
  const schema = serviceConfigSchema('runtime-scheduler', {
    RUNTIME_SCHEDULER_SIGNING_KEY: sensitive(z.string()).optional(),
    WAKE_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  });

  it('derives the env prefix from the kebab-case name', () => {
    expect(serviceEnvPrefix('runtime-scheduler')).toBe('RUNTIME_SCHEDULER');
    expect(serviceEnvPrefix('identity')).toBe('IDENTITY');
    expect(() => serviceEnvPrefix('Runtime_Scheduler')).toThrow(/kebab-case/);
  });

  it('composes the base settings, the overrides and the service fields', () => {
    const config = loadConfig(
      schema,
      devEnv({ RUNTIME_SCHEDULER_NATS_USER: 'scheduler', RUNTIME_SCHEDULER_NATS_PASSWORD: 'pw' }),
    );
    expect(config).toMatchObject({
      HTTP_PORT: 8080,
      WAKE_TIMEOUT_MS: 30_000,
      RUNTIME_SCHEDULER_NATS_USER: 'scheduler',
    });
    const typed: { WAKE_TIMEOUT_MS: number; RUNTIME_SCHEDULER_NATS_USER?: string; DATABASE_URL?: string } =
      config;
    expect(typed.WAKE_TIMEOUT_MS).toBe(30_000);
  });

  it('resolves the effective database URL and NATS credentials', () => {
    const shared = loadConfig(schema, devEnv({ NATS_USER: 'shared', NATS_PASSWORD: 'shared-pw' }));
    expect(resolveServiceConnections('runtime-scheduler', shared)).toEqual({
      databaseUrl: shared.DATABASE_URL,
      nats: { servers: 'nats://127.0.0.1:4222', user: 'shared', password: 'shared-pw' },
    });
    const own = loadConfig(schema, {
      NATS_USER: 'shared',
      NATS_PASSWORD: 'shared-pw',
      RUNTIME_SCHEDULER_NATS_USER: 'scheduler',
      RUNTIME_SCHEDULER_NATS_PASSWORD: 'scheduler-pw',
      RUNTIME_SCHEDULER_DATABASE_URL: 'postgres://scheduler:pw@db/palisade',
    });
    expect(resolveServiceConnections('runtime-scheduler', own)).toEqual({
      databaseUrl: 'postgres://scheduler:pw@db/palisade',
      nats: { servers: 'nats://127.0.0.1:4222', user: 'scheduler', password: 'scheduler-pw' },
    });
  });

  it('needs DATABASE_URL or the service one', () => {
    expect(problemsOf(schema, {})).toEqual([
      expect.objectContaining({
        key: 'DATABASE_URL',
        message: 'is required',
        fix: expect.stringContaining('RUNTIME_SCHEDULER_DATABASE_URL'),
      }),
    ]);
  });

  it('wants the service NATS user and password together', () => {
    expect(keysOf(problemsOf(schema, devEnv({ RUNTIME_SCHEDULER_NATS_USER: 'scheduler' })))).toEqual([
      'RUNTIME_SCHEDULER_NATS_PASSWORD',
    ]);
  });

  it('accepts per-service NATS credentials in production and checks every sensitive field', () => {
    const env = productionEnv({
      NATS_USER: undefined,
      NATS_PASSWORD: undefined,
      RUNTIME_SCHEDULER_NATS_USER: 'scheduler',
      RUNTIME_SCHEDULER_NATS_PASSWORD: STRONG.natsPassword,
    });
    expect(loadConfig(schema, env).RUNTIME_SCHEDULER_NATS_USER).toBe('scheduler');
    const problems = problemsOf(schema, {
      ...env,
      RUNTIME_SCHEDULER_SIGNING_KEY: 'secret',
      RUNTIME_SCHEDULER_DATABASE_URL: 'postgres://s:admin@db/p',
    });
    expect(keysOf(problems)).toEqual(['RUNTIME_SCHEDULER_DATABASE_URL', 'RUNTIME_SCHEDULER_SIGNING_KEY']);
  });
});

describe('sensitive fields', () => {
  it('are recognised through optional, default and pipe wrappers', () => {
    expect(isSensitive(sensitive(z.string()).optional())).toBe(true);
    expect(isSensitive(sensitive(z.string()).default('x'))).toBe(true);
    expect(
      isSensitive(
        sensitive(z.string())
          .refine(() => true)
          .describe('d'),
      ),
    ).toBe(true);
    expect(isSensitive(sensitive(z.string()).transform((s) => s.length))).toBe(true);
    expect(isSensitive(z.string())).toBe(false);
  });

  it('do not mark the schema they were made from', () => {
    const plain = z.string();
    sensitive(plain);
    expect(isSensitive(plain)).toBe(false);
  });

  it('are masked by maskConfig', () => {
    const env = productionEnv({ OTEL_SERVICE_NAME: 'palisade' });
    const masked = maskConfig(baseConfigSchema, loadConfig(baseConfigSchema, env));
    expect(masked).toMatchObject({
      DATABASE_URL: REDACTED,
      NATS_PASSWORD: REDACTED,
      NATS_USER: 'palisade',
      OTEL_SERVICE_NAME: 'palisade',
      HTTP_PORT: 8080,
    });
    expect(JSON.stringify(masked)).not.toContain(STRONG.natsPassword);
    expect(JSON.stringify(masked)).not.toContain(STRONG.dbPassword);
    expect(masked).not.toHaveProperty('PALISADE_DEMO_TOKENS');
  });

  it('never appear in error messages, even when a schema quotes them', () => {
    const leaky = z.object({
      API_KEY: sensitive(
        z.string().refine((v) => v.length > 100, { error: (issue) => `bad key ${String(issue.input)}` }),
      ),
    });
    const problems = problemsOf(leaky, { API_KEY: 'k-1234567890-leaky' });
    expect(problems[0].message).toBe(`bad key ${REDACTED}`);
  });

  it('never appear when a schema throws', () => {
    const broken = z.object({
      TOKEN: sensitive(z.string()),
      OTHER: z.string().transform((_v, _ctx) => {
        throw new Error('boom with tok-abcdef123456');
      }),
    });
    const problems = problemsOf(broken, { TOKEN: 'tok-abcdef123456', OTHER: 'x' });
    expect(problems).toEqual([
      { key: '(config)', message: `the configuration could not be validated (Error: boom with ${REDACTED})` },
    ]);
  });
});
