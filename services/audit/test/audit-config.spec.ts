import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig } from '@palisade/config';
import { auditConfigSchema } from '../src/audit.config';

const base = { DATABASE_URL: 'postgres://palisade:pw@127.0.0.1:5432/palisade' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(auditConfigSchema, env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => p.key);
  }
}

describe('audit configuration', () => {
  const key = generateKeyPairSync('ed25519').privateKey;
  const pem = key.export({ format: 'pem', type: 'pkcs8' }).toString();
  const seed = key.export({ format: 'der', type: 'pkcs8' }).subarray(16).toString('base64');

  it('has working defaults in dev and accepts a PEM or base64 seed signing key', () => {
    const config = loadConfig(auditConfigSchema, base);
    expect(config).toMatchObject({ AUDIT_CHECKPOINT_EVERY: 1000, AUDIT_EXPORT_BATCH_SIZE: 5000 });
    expect(config.AUDIT_SIGNING_KEY).toBeUndefined();
    expect(problems({ ...base, AUDIT_SIGNING_KEY: pem })).toEqual([]);
    expect(problems({ ...base, AUDIT_SIGNING_KEY: seed })).toEqual([]);
  });

  it('refuses a malformed key, bad numbers and URLs, all at once, without echoing the key', () => {
    let error: unknown;
    try {
      loadConfig(auditConfigSchema, {
        ...base,
        AUDIT_SIGNING_KEY: 'not-a-key-but-a-secret-value',
        AUDIT_CHECKPOINT_EVERY: '0',
        AUDIT_CLICKHOUSE_URL: 'clickhouse.example',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.key).sort()).toEqual([
      'AUDIT_CHECKPOINT_EVERY',
      'AUDIT_CLICKHOUSE_URL',
      'AUDIT_SIGNING_KEY',
    ]);
    expect((error as Error).message).not.toContain('not-a-key-but-a-secret-value');
  });

  it('production requires the signing key', () => {
    const production = {
      ...base,
      DATABASE_URL: 'postgres://palisade:Zq8rT2vW9xY4bN6mK3pL7sD1fG5hJ0aC@db.internal:5432/palisade',
      PALISADE_MODE: 'production',
      PALISADE_OIDC_ISSUER: 'https://id.example.com',
    };
    expect(problems(production)).toContain('AUDIT_SIGNING_KEY');
    expect(problems({ ...production, AUDIT_SIGNING_KEY: seed })).not.toContain('AUDIT_SIGNING_KEY');
  });
});
