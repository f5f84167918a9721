import fc from 'fast-check';
import { REDACTED, REDACTED_KEYS, redactPaths, redactString, redactValue } from '../src';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

describe('redactString', () => {
  it.each([
    ['Authorization: Bearer xyz', `Authorization: Bearer ${REDACTED}`],
    ['bearer abc.def-ghi_jkl~', `bearer ${REDACTED}`],
    ['Basic dXNlcjpwYXNz', `Basic ${REDACTED}`],
    [`jwt ${JWT} expired`, `jwt ${REDACTED} expired`],
    ['unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.', `unsigned ${REDACTED}`],
    ['postgres://palisade:hunter2@db:5432/p', `postgres://palisade:${REDACTED}@db:5432/p`],
    ['nats://:tok3n@nats:4222', `nats://:${REDACTED}@nats:4222`],
    ['/cb?code=1&access_token=abc123&state=s', `/cb?code=1&access_token=${REDACTED}&state=s`],
    ['password=hunter2 retries=3', `password=${REDACTED} retries=3`],
    [
      '{"user":"a","password":"p\\"w","clientSecret":"s"}',
      `{"user":"a","password":"${REDACTED}","clientSecret":"${REDACTED}"}`,
    ],
    [
      'link QWxhZGRpbjpvcGVuU2VzYW1l.bG9uZ0xvbmdMb25nTG9uZ1BheWxvYWQ.c2lnbmF0dXJlU2lnbmF0dXJlU2ln',
      `link ${REDACTED}`,
    ],
  ])('masks %p', (text, expected) => {
    expect(redactString(text)).toBe(expected);
  });

  it.each([
    'GET /api/workspaces/ws-1 200 in 12 ms',
    'host api.example.com resolved; version 1.2.3',
    'very-long-subdomain-name.another-long-segment.example-domain-name',
    'postgres://palisade@db:5432/p',
    'token expired for user alice',
    'https://login.example.com/realms/palisade',
  ])('leaves ordinary text alone: %p', (text) => {
    expect(redactString(text)).toBe(text);
  });

  it('keeps a serialized JSON line valid, whatever it contains', () => {
    const secretish = fc.oneof(
      fc.string(),
      fc.constantFrom(
        'Bearer x',
        JWT,
        'postgres://u:p@h/db',
        'password=x',
        '"token":"y"',
        '\\"token\\":\\"y\\"',
        'a\\',
        '"',
        '\\"',
      ),
    );
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(fc.constantFrom(...REDACTED_KEYS, 'msg', 'NATS_PASSWORD'), fc.string()),
          fc.oneof(secretish, fc.array(secretish)),
        ),
        (object) => {
          const line = JSON.stringify(object);
          expect(() => JSON.parse(redactString(line))).not.toThrow();
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('redactPaths', () => {
  it('covers every key from the top down to four levels of parents, and the header paths', () => {
    const paths = redactPaths();
    expect(paths).toEqual(
      expect.arrayContaining([
        'password',
        '*.password',
        '*.*.*.*.password',
        '*["set-cookie"]',
        'req.headers.authorization',
        'res.headers["set-cookie"]',
      ]),
    );
    expect(paths).not.toContain('*.*.*.*.*.password');
    expect(paths).toHaveLength(3 + REDACTED_KEYS.length * 5);
  });
});

describe('redactValue', () => {
  it('copies a value with secret keys censored and strings masked, leaving the original alone', () => {
    const original = {
      user: 'alice',
      password: 'x',
      nested: [{ apiKey: 'k', note: `Bearer abc` }],
      err: new Error('Bearer abc'),
    };
    expect(redactValue(original)).toEqual({
      user: 'alice',
      password: REDACTED,
      nested: [{ apiKey: REDACTED, note: `Bearer ${REDACTED}` }],
      err: {
        type: 'Error',
        message: `Bearer ${REDACTED}`,
        stack: expect.stringContaining(`Bearer ${REDACTED}`),
      },
    });
    expect(original.password).toBe('x');
  });

  it('stops at cycles and depth', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    expect(redactValue(cyclic)).toEqual({ name: 'a', self: '[truncated]' });
  });
});
