import { IDENTITY, IDENTITY_EVENTS, SYSTEM_ORG } from '@palisade/contracts';
import fc from 'fast-check';

describe('identity event contracts', () => {
  it('covers every event the issue names, all in the identity context', () => {
    expect(IDENTITY_EVENTS.map((d) => d.name).sort()).toEqual([
      'api_token.issued',
      'api_token.revoked',
      'login.failed',
      'refresh_token.reuse_detected',
      'session.refreshed',
      'session.revoked',
      'session.started',
      'signing_key.rotated',
      'user.registered',
    ]);
    for (const definition of IDENTITY_EVENTS) {
      expect(definition.context).toBe(IDENTITY.context);
      expect(definition.subject(SYSTEM_ORG)).toBe(
        `evt.identity.system.${definition.entity}.${definition.verb}`,
      );
    }
  });

  it('refuses any extra field, so no token, hash or secret can ride along in a payload', () => {
    const secretKeys = fc.constantFrom(
      'token',
      'refreshToken',
      'accessToken',
      'tokenHash',
      'password',
      'secret',
      'idToken',
      'codeVerifier',
      'privateKey',
    );
    fc.assert(
      fc.property(fc.constantFrom(...IDENTITY_EVENTS), secretKeys, fc.string(), (definition, key, value) => {
        const shape = (definition.data as unknown as { shape: Record<string, unknown> }).shape;
        expect(Object.keys(shape)).not.toContain(key);
        const result = definition.data.safeParse({ [key]: value });
        expect(result.success).toBe(false);
      }),
    );
  });
});
