import { SECRET_VALUE_MAX_BYTES } from '@palisade/contracts';
import { RuleError } from '@palisade/domain';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** In a `u` regex, a surrogate pair is one code point: only a lone surrogate matches. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Checks a value before it is stored: 1..SECRET_VALUE_MAX_BYTES bytes of UTF-8, no NUL (values
 * become environment variables, which end at the first NUL) and no U+FFFD (the character invalid
 * UTF-8 is turned into on the way; refusing it keeps a damaged value from being stored silently).
 * Messages never quote the value.
 */
export function checkSecretValue(value: string): void {
  if (value.length === 0)
    throw new RuleError(400, 'empty_value', 'The value is empty; a secret needs a value.');
  if (LONE_SURROGATE.test(value))
    throw new RuleError(400, 'invalid_utf8', 'The value is not valid UTF-8 (it has a lone surrogate).');
  if (value.includes('\uFFFD'))
    throw new RuleError(
      400,
      'invalid_utf8',
      'The value contains U+FFFD, the replacement for invalid UTF-8; send the value as valid UTF-8.',
    );
  if (value.includes('\u0000'))
    throw new RuleError(
      400,
      'value_contains_nul',
      'The value contains a NUL character, which an environment variable cannot hold.',
    );
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > SECRET_VALUE_MAX_BYTES)
    throw new RuleError(
      413,
      'value_too_large',
      `The value is ${bytes} bytes; values are limited to ${SECRET_VALUE_MAX_BYTES} bytes of UTF-8.`,
    );
}

/** Bytes read from a person (stdin, a file) as a value: strict UTF-8, then checkSecretValue. */
export function secretValueFromBytes(bytes: Uint8Array): string {
  if (bytes.length > SECRET_VALUE_MAX_BYTES)
    throw new RuleError(
      413,
      'value_too_large',
      `The value is ${bytes.length} bytes or more; values are limited to ${SECRET_VALUE_MAX_BYTES} bytes of UTF-8.`,
    );
  let value: string;
  try {
    value = utf8.decode(bytes);
  } catch {
    throw new RuleError(400, 'invalid_utf8', 'The value is not valid UTF-8.');
  }
  checkSecretValue(value);
  return value;
}
