import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { AccessTokenVerifier, AuthError, JwksKeyStore, REVOCATION_MEMORY_MS, RevocationList } from '../src';

describe('verifier start-up, key filtering and revocation memory', () => {
  it('fails closed with 503 auth_unavailable while revocations are not caught up', async () => {
    const verifier = new AccessTokenVerifier({
      keys: new JwksKeyStore(async () => ({ keys: [] })),
      revocations: new RevocationList(),
      ready: new Promise<void>(() => undefined),
      readyTimeoutMs: 50,
    });
    const error = await verifier.verify('a.b.c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('auth_unavailable');
    expect((error as AuthError).status).toBe(503);
  });

  it('takes only Ed25519 public signing keys from the JWKS (no RSA, HMAC or private keys under our kid)', async () => {
    const ed = await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).publicKey);
    const edPrivate = await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).privateKey);
    const rsa = await exportJWK(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
    const store = new JwksKeyStore(async () => ({
      keys: [
        { ...rsa, kid: 'rsa', alg: 'RS256' },
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac', alg: 'HS256' },
        { ...edPrivate, kid: 'private' },
        { ...ed, kid: 'enc', use: 'enc' },
        { ...ed, kid: 'good', alg: 'EdDSA', use: 'sig' },
        'garbage',
        null,
      ],
    }));
    expect(await store.key('good')).toBeDefined();
    for (const kid of ['rsa', 'hmac', 'private', 'enc']) expect(store.has(kid)).toBe(false);
  });

  it('remembers a session revocation as long as a token of that session can live, then forgets it', () => {
    let clock = 0;
    const list = new RevocationList(() => clock);
    list.revokeSession('s1');
    clock = REVOCATION_MEMORY_MS - 1;
    list.revokeSession('s2');
    expect(list.isSessionRevoked('s1')).toBe(true);
    clock = REVOCATION_MEMORY_MS + 120_000;
    list.revokeSession('s3');
    expect(list.isSessionRevoked('s1')).toBe(false);
    expect(list.isSessionRevoked('s2')).toBe(true);
  });
});
