import { createHmac, generateKeyPairSync } from 'node:crypto';
import { DEFAULT_TOKEN_AUDIENCE, DEFAULT_TOKEN_ISSUER } from '@palisade/contracts';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, JWK, SignJWT, UnsecuredJWT } from 'jose';
import { AccessTokenVerifier, AuthError, JwksKeyStore, MAX_TOKEN_LENGTH, RevocationList } from '../src';

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
const b64 = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('access token verifier: JWT attacks are refused with a stable code', () => {
  const NOW = Date.parse('2026-11-25T05:00:00Z');
  let clock = NOW;
  let signingKey: Key;
  let publicJwk: JWK;
  let attackerKey: Key;
  let jwks: { keys: JWK[] };
  let store: JwksKeyStore;
  let revocations: RevocationList;
  let verifier: AccessTokenVerifier;
  const seconds = () => Math.floor(clock / 1000);

  beforeAll(async () => {
    const pair = await generateKeyPair('EdDSA', { extractable: true });
    signingKey = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
    attackerKey = (await generateKeyPair('EdDSA')).privateKey;
  });

  beforeEach(() => {
    clock = NOW;
    jwks = { keys: [publicJwk] };
    store = new JwksKeyStore(async () => structuredClone(jwks), {
      refetchCooldownMs: 10_000,
      now: () => clock,
    });
    revocations = new RevocationList(() => clock);
    verifier = new AccessTokenVerifier({ keys: store, revocations, now: () => clock });
  });

  const claims = (overrides: Record<string, unknown> = {}) => ({
    iss: DEFAULT_TOKEN_ISSUER,
    aud: DEFAULT_TOKEN_AUDIENCE,
    sub: 'user1',
    sid: 'session1',
    jti: 'token1',
    iat: seconds(),
    nbf: seconds(),
    exp: seconds() + 900,
    ...overrides,
  });

  const sign = (
    payload: Record<string, unknown> = claims(),
    header: Record<string, unknown> = {},
    key: Key = signingKey,
  ) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt', ...header } as never)
      .sign(key);

  async function refusal(token: string | undefined): Promise<string> {
    try {
      await verifier.verify(token);
    } catch (error) {
      expect(error).toBeInstanceOf(AuthError);
      // Messages never quote the credential (short strings may occur in any sentence).
      if (token && token.length >= 12) expect((error as Error).message).not.toContain(token);
      return (error as AuthError).code;
    }
    return 'accepted';
  }

  it('accepts a well-formed token and returns its principal', async () => {
    await expect(verifier.verify(await sign())).resolves.toEqual({
      kind: 'user',
      userId: 'user1',
      sessionId: 'session1',
      tokenId: 'token1',
      expiresAt: seconds() + 900,
    });
  });

  it('refuses alg none (an unsecured JWT), with or without a signature', async () => {
    const unsecured = new UnsecuredJWT(claims()).encode();
    expect(await refusal(unsecured)).toBe('token_algorithm_refused');
    const [, payload] = (await sign()).split('.');
    for (const alg of ['none', 'None', 'NONE'])
      expect(await refusal(`${b64({ alg, kid: 'k1', typ: 'at+jwt' })}.${payload}.`)).toBe(
        'token_algorithm_refused',
      );
  });

  it('refuses HS256 signed with the public key as the HMAC secret (key confusion)', async () => {
    const header = b64({ alg: 'HS256', kid: 'k1', typ: 'at+jwt' });
    const payload = b64(claims());
    for (const secret of [publicJwk.x!, JSON.stringify(publicJwk), Buffer.from(publicJwk.x!, 'base64url')]) {
      const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      expect(await refusal(`${header}.${payload}.${signature}`)).toBe('token_algorithm_refused');
    }
  });

  it('refuses RS256 and ES256 tokens naming our kid, signed by an attacker', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const rs = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })
      .sign(rsa);
    expect(await refusal(rs)).toBe('token_algorithm_refused');
    const ec = (await generateKeyPair('ES256')).privateKey;
    const es = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .sign(ec);
    expect(await refusal(es)).toBe('token_algorithm_refused');
  });

  it('refuses a token signed by another Ed25519 key, and one whose payload was changed', async () => {
    expect(await refusal(await sign(claims(), {}, attackerKey))).toBe('token_signature_invalid');
    const [header, , signature] = (await sign()).split('.');
    expect(await refusal(`${header}.${b64(claims({ sub: 'admin' }))}.${signature}`)).toBe(
      'token_signature_invalid',
    );
  });

  it('refuses keys or key URLs embedded in the header', async () => {
    const attackerJwk = await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).publicKey);
    expect(await refusal(await sign(claims(), { jwk: attackerJwk }, attackerKey))).toBe(
      'token_header_refused',
    );
    expect(await refusal(await sign(claims(), { jku: 'http://127.0.0.1:1/jwks' }))).toBe(
      'token_header_refused',
    );
    expect(await refusal(await sign(claims(), { x5u: 'http://127.0.0.1:1/cert' }))).toBe(
      'token_header_refused',
    );
  });

  it('refuses expired tokens, tokens not valid yet, and tokens issued in the future', async () => {
    expect(
      await refusal(
        await sign(claims({ iat: seconds() - 1000, nbf: seconds() - 1000, exp: seconds() - 60 })),
      ),
    ).toBe('token_expired');
    expect(await refusal(await sign(claims({ nbf: seconds() + 600 })))).toBe('token_not_yet_valid');
    expect(
      await refusal(await sign(claims({ iat: seconds() + 600, nbf: seconds(), exp: seconds() + 900 }))),
    ).toBe('token_claims_invalid');
  });

  it('refuses a token that claims to live longer than 30 minutes, even correctly signed', async () => {
    expect(await refusal(await sign(claims({ exp: seconds() + 1801 })))).toBe('token_claims_invalid');
  });

  it('refuses the wrong issuer, the wrong audience, a wrong typ and missing claims', async () => {
    expect(await refusal(await sign(claims({ iss: 'https://evil.example' })))).toBe('token_issuer_invalid');
    expect(await refusal(await sign(claims({ aud: 'urn:other:api' })))).toBe('token_audience_invalid');
    expect(await refusal(await sign(claims(), { typ: 'JWT' }))).toBe('token_claims_invalid');
    const { sid: _sid, ...withoutSid } = claims();
    expect(await refusal(await sign(withoutSid))).toBe('token_claims_invalid');
    expect(await refusal(await sign(claims({ sub: '../admin' })))).toBe('token_claims_invalid');
  });

  it('refuses an unknown kid, refetching the JWKS at most once per cooldown however many arrive', async () => {
    await verifier.verify(await sign());
    expect(store.fetchCount).toBe(1);
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => sign(claims(), { kid: `made-up-${i}` })),
    );
    for (const token of tokens) expect(await refusal(token)).toBe('token_key_unknown');
    expect(store.fetchCount).toBe(1);
    clock += 10_000;
    expect(await refusal(tokens[0])).toBe('token_key_unknown');
    expect(store.fetchCount).toBe(2);
  });

  it('picks up a rotated key on an unknown kid once the cooldown allows, and drops removed keys', async () => {
    await verifier.verify(await sign());
    const next = await generateKeyPair('EdDSA', { extractable: true });
    jwks.keys.push({ ...(await exportJWK(next.publicKey)), kid: 'k2', alg: 'EdDSA' });
    const rotated = await sign(claims(), { kid: 'k2' }, next.privateKey);
    clock += 10_000;
    expect((await verifier.verify(rotated)).kind).toBe('user');
    // k1 is withdrawn (e.g. compromised): a token verified and cached before is refused after the refetch.
    const old = await sign();
    await verifier.verify(old);
    jwks.keys = jwks.keys.filter((k) => k.kid !== 'k1');
    clock += 10_000;
    await store.refresh();
    expect(await refusal(old)).toBe('token_key_unknown');
  });

  it('refuses oversized tokens before parsing them or fetching keys', async () => {
    const huge = await sign(claims({ pad: 'x'.repeat(MAX_TOKEN_LENGTH) }));
    expect(await refusal(huge)).toBe('token_too_large');
    expect(await refusal('a'.repeat(1_000_000))).toBe('token_too_large');
    expect(store.fetchCount).toBe(0);
  });

  it('refuses revoked sessions, also for a token verified (and cached) before the revocation', async () => {
    const token = await sign();
    await verifier.verify(token);
    revocations.revokeSession('session1');
    expect(await refusal(token)).toBe('session_revoked');
  });

  it('expires a cached token on time', async () => {
    const token = await sign(claims({ exp: seconds() + 60 }));
    await verifier.verify(token);
    clock += 66_000;
    expect(await refusal(token)).toBe('token_expired');
  });

  it('refuses missing and malformed tokens', async () => {
    for (const token of [undefined, '']) expect(await refusal(token)).toBe('token_missing');
    for (const token of ['abc', 'a.b', 'a.b.c.d', '!!.??.**', `${b64('not json')}.${b64({})}.`])
      expect(await refusal(token)).toMatch(/^token_(malformed|algorithm_refused)$/);
  });

  it('accepts static demo tokens only when they are configured', async () => {
    const demo = 'demo-writer-token-0123456789';
    expect(await refusal(demo)).toBe('token_malformed');
    const demoVerifier = new AccessTokenVerifier({ keys: store, revocations, demoTokens: { writer: demo } });
    await expect(demoVerifier.verify(demo)).resolves.toEqual({ kind: 'demo', role: 'writer' });
    await expect(demoVerifier.verify(`${demo}x`)).rejects.toBeInstanceOf(AuthError);
  });

  it('never accepts a mutated token, and every refusal is an AuthError (property)', async () => {
    const token = await sign();
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'),
        async (position, replacement) => {
          fc.pre(token[position] !== replacement);
          const mutated = token.slice(0, position) + replacement + token.slice(position + 1);
          // Base64url's last character may carry unused bits: a change there can decode to the same bytes.
          fc.pre(
            Buffer.from(mutated.split('.')[2] ?? '', 'base64url').toString('base64url') ===
              mutated.split('.')[2],
          );
          expect(await refusal(mutated)).not.toBe('accepted');
        },
      ),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 600 }), async (garbage) => {
        expect(await refusal(garbage)).not.toBe('accepted');
      }),
      { numRuns: 300 },
    );
  });
});
