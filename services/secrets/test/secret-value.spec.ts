import fc from 'fast-check';
import { SECRET_VALUE_MAX_BYTES } from '@palisade/contracts';
import { checkSecretValue, secretValueFromBytes } from '../src/domain/secret-value';
import { RuleError } from '@palisade/domain';

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof RuleError) return error.code;
    throw error;
  }
}

describe('secret values: UTF-8, 1..4096 bytes, no NUL, never quoted back', () => {
  it('takes values up to the limit, in any script', () => {
    expect(code(() => checkSecretValue('postgres://app:s3cr3t@db:5432/app'))).toBe('ok');
    expect(
      code(() =>
        checkSecretValue('€'.repeat(SECRET_VALUE_MAX_BYTES / 4) + 'x'.repeat(SECRET_VALUE_MAX_BYTES / 4)),
      ),
    ).toBe('ok');
    expect(code(() => checkSecretValue('x'.repeat(SECRET_VALUE_MAX_BYTES)))).toBe('ok');
    expect(code(() => checkSecretValue('😀 multi\nline\tvalue'))).toBe('ok');
  });

  it('refuses empty, too large (1 MB too), NUL and malformed text, with messages that never hold the value', () => {
    const cases: Array<[string, string]> = [
      ['', 'empty_value'],
      ['x'.repeat(SECRET_VALUE_MAX_BYTES + 1), 'value_too_large'],
      ['€'.repeat(1366), 'value_too_large'],
      ['secret-canary-' + 'y'.repeat(1024 * 1024), 'value_too_large'],
      ['before\u0000after-canary', 'value_contains_nul'],
      ['lone \ud800 surrogate-canary', 'invalid_utf8'],
      ['replaced \ufffd byte-canary', 'invalid_utf8'],
    ];
    for (const [value, expected] of cases) {
      let message = '';
      try {
        checkSecretValue(value);
      } catch (error) {
        message = (error as Error).message;
      }
      expect({ code: code(() => checkSecretValue(value)) }).toEqual({ code: expected });
      expect(message).not.toContain('canary');
    }
  });

  it('reads bytes strictly: invalid UTF-8 is refused, valid UTF-8 comes back unchanged (property)', () => {
    expect(code(() => secretValueFromBytes(Buffer.from([0x66, 0x6f, 0xff, 0x6f])))).toBe('invalid_utf8');
    expect(code(() => secretValueFromBytes(Buffer.from([0xc3])))).toBe('invalid_utf8');
    expect(code(() => secretValueFromBytes(Buffer.alloc(1024 * 1024, 0x61)))).toBe('value_too_large');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const outcome = code(() => secretValueFromBytes(bytes));
        expect(['ok', 'empty_value', 'invalid_utf8', 'value_contains_nul']).toContain(outcome);
        if (outcome === 'ok')
          expect(Buffer.from(secretValueFromBytes(bytes), 'utf8').equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }), (text) => {
        fc.pre(!text.includes('\u0000') && !text.includes('\ufffd'));
        expect(secretValueFromBytes(Buffer.from(text, 'utf8'))).toBe(text);
      }),
    );
  });
});
