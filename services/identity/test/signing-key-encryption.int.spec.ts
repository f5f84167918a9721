import fs from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { fileKeyEncryption, isSealed, loadConfig } from '@palisade/config';
import { startPalisade } from '@palisade/runtime';
import { Client } from 'pg';
import { identityConfigSchema, identityService } from '../src';
import { client, IdentityHarness, startIdentityHarness } from './identity.fixture';

/** Identity's signing keys at rest: sealed with a key that is not in the database. */
describe('identity signing keys, encrypted at rest', () => {
  let harness: IdentityHarness;
  beforeAll(async () => (harness = await startIdentityHarness()));
  afterAll(async () => harness?.stop());

  async function asLogin<T>(url: string, run: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      return await run(c);
    } finally {
      await c.end();
    }
  }
  const keysAsIdentity = () =>
    asLogin(
      harness.logins.serviceUrl('identity'),
      async (c) =>
        (
          await c.query<{ kid: string; private_pkcs8: string }>(
            'select kid, private_pkcs8 from identity.signing_keys',
          )
        ).rows,
    );

  it('stores only sealed private keys, which open with the key file and in their own row only', async () => {
    const rows = await keysAsIdentity();
    expect(rows.length).toBeGreaterThan(0);
    const kms = fileKeyEncryption(harness.env.IDENTITY_KEY_ENCRYPTION_KEY_FILE!);
    for (const row of rows) {
      expect(isSealed(row.private_pkcs8)).toBe(true);
      expect(row.private_pkcs8).not.toContain('PRIVATE KEY');
      expect((await kms.open(row.private_pkcs8, `identity.signing_keys/${row.kid}`)).toString()).toContain(
        'BEGIN PRIVATE KEY',
      );
      await expect(kms.open(row.private_pkcs8, 'identity.signing_keys/another-kid')).rejects.toThrow();
    }
  });

  it('seals a key stored in plain text by an older version when identity starts', async () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const kid = `legacy-${randomBytes(4).toString('hex')}`;
    await asLogin(harness.databaseUrl, (c) =>
      c.query(
        `insert into identity.signing_keys (kid, public_jwk, private_pkcs8, created_at, retired_at, expires_at)
         values ($1, '{}', $2, now() - interval '2 days', now() - interval '1 day', now() - interval '1 day')`,
        [kid, pem],
      ),
    );
    const again = await startPalisade({ services: [identityService], env: harness.env });
    try {
      const row = (await keysAsIdentity()).find((r) => r.kid === kid)!;
      expect(isSealed(row.private_pkcs8)).toBe(true);
      const kms = fileKeyEncryption(harness.env.IDENTITY_KEY_ENCRYPTION_KEY_FILE!);
      expect((await kms.open(row.private_pkcs8, `identity.signing_keys/${kid}`)).toString()).toBe(pem);
      expect((await client(again.url).get('/.well-known/jwks.json')).status).toBe(200);
    } finally {
      await again.stop();
    }
  });

  it('refuses to start with another key file, saying which key sealed the keys', async () => {
    const otherFile = `${harness.env.IDENTITY_KEY_ENCRYPTION_KEY_FILE}.other`;
    try {
      await expect(
        startPalisade({
          services: [identityService],
          env: { ...harness.env, IDENTITY_KEY_ENCRYPTION_KEY_FILE: otherFile },
        }),
      ).rejects.toThrow(/sealed with key [0-9a-f]{16}, not with this key file's/);
    } finally {
      fs.rmSync(otherFile, { force: true });
    }
  });

  it('production refuses to start without the key file', () => {
    let problems: { key: string; message: string }[] = [];
    try {
      loadConfig(identityConfigSchema, { PALISADE_MODE: 'production' });
    } catch (error) {
      problems = (error as { problems: typeof problems }).problems;
    }
    expect(problems).toContainEqual(
      expect.objectContaining({
        key: 'IDENTITY_KEY_ENCRYPTION_KEY_FILE',
        message: expect.stringContaining('is required in production'),
      }),
    );
  });
});
