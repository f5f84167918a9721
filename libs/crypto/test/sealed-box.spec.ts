import fc from 'fast-check';
import { generateBoxKeyPair, openBox, SealedBox, SealedBoxError, sealBox } from '../src';

const RUNTIME = '0193a1b2-0000-7000-8000-000000000001';
const OTHER_RUNTIME = '0193a1b2-0000-7000-8000-000000000002';

function failure(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof SealedBoxError) return error.code;
    throw error;
  }
}

/** Flips one bit of one byte of a base64url field. */
function flip(value: string, index: number, bit: number): string {
  const bytes = Buffer.from(value, 'base64url');
  bytes[index % bytes.length] ^= 1 << (bit % 8);
  return bytes.toString('base64url');
}

describe('sealed box (X25519 + HKDF-SHA-256 + AES-256-GCM, the runtime id as associated data)', () => {
  const recipient = generateBoxKeyPair();

  it('opens what was sealed to the key, for any bytes and associated data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.string({ maxLength: 64 }), (plaintext, aad) => {
        const box = sealBox(plaintext, recipient.publicKey, aad);
        expect(box.alg).toBe('X25519-HKDF-SHA256-A256GCM');
        expect(Buffer.from(box.ephemeralPublicKey, 'base64url')).toHaveLength(32);
        expect(Buffer.from(box.iv, 'base64url')).toHaveLength(12);
        expect(Buffer.from(box.tag, 'base64url')).toHaveLength(16);
        expect(openBox(box, recipient.privateKey, aad).equals(Buffer.from(plaintext))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('seals each box with a fresh ephemeral key and iv: the same plaintext never looks the same', () => {
    const a = sealBox(Buffer.from('same'), recipient.publicKey, RUNTIME);
    const b = sealBox(Buffer.from('same'), recipient.publicKey, RUNTIME);
    expect(a.ephemeralPublicKey).not.toBe(b.ephemeralPublicKey);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it('does not open with another private key', () => {
    const box = sealBox(Buffer.from('{"DATABASE_URL":"x"}'), recipient.publicKey, RUNTIME);
    const stranger = generateBoxKeyPair();
    expect(failure(() => openBox(box, stranger.privateKey, RUNTIME))).toBe('cannot_open');
  });

  it('does not open for another runtime: a reply replayed to another runtime fails, even with the right key', () => {
    const box = sealBox(Buffer.from('{"DATABASE_URL":"x"}'), recipient.publicKey, RUNTIME);
    expect(failure(() => openBox(box, recipient.privateKey, OTHER_RUNTIME))).toBe('cannot_open');
    const other = generateBoxKeyPair();
    expect(failure(() => openBox(box, other.privateKey, OTHER_RUNTIME))).toBe('cannot_open');
  });

  it('detects any changed bit of the ciphertext, tag, iv or ephemeral key', () => {
    const box = sealBox(Buffer.from('{"API_KEY":"a value worth stealing"}'), recipient.publicKey, RUNTIME);
    const fields = ['ciphertext', 'tag', 'iv', 'ephemeralPublicKey'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (field, index, bit) => {
          const tampered: SealedBox = { ...box, [field]: flip(box[field], index, bit) };
          const code = failure(() => openBox(tampered, recipient.privateKey, RUNTIME));
          // A flipped ephemeral key may turn into a key X25519 refuses; either way it does not open.
          expect(['cannot_open', 'invalid_public_key']).toContain(code);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses malformed boxes and keys with a code, never an exception of another kind', () => {
    const box = sealBox(Buffer.from('x'), recipient.publicKey, RUNTIME);
    expect(failure(() => openBox({ ...box, alg: 'none' } as never, recipient.privateKey, RUNTIME))).toBe(
      'invalid_box',
    );
    expect(failure(() => openBox({ ...box, iv: 'AAAA' }, recipient.privateKey, RUNTIME))).toBe('invalid_box');
    expect(failure(() => openBox({ ...box, tag: 'not base64!' }, recipient.privateKey, RUNTIME))).toBe(
      'invalid_box',
    );
    expect(failure(() => sealBox(Buffer.from('x'), 'short', RUNTIME))).toBe('invalid_public_key');
    expect(failure(() => sealBox(Buffer.from('x'), '+/+/', RUNTIME))).toBe('invalid_public_key');
  });

  it('refuses low-order public keys (an all-zero shared secret protects nothing)', () => {
    for (const lowOrder of [Buffer.alloc(32), Buffer.from([1, ...Buffer.alloc(31)])])
      expect(failure(() => sealBox(Buffer.from('x'), lowOrder.toString('base64url'), RUNTIME))).toBe(
        'invalid_public_key',
      );
  });
});
