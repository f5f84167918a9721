import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { fileKeyEncryption, isSealed, KeyEncryptionError } from '../src';

describe('fileKeyEncryption: secrets sealed with a key kept outside the database', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-kek-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates a 0600 key file in dev and seals values that open only with it, in their own context', async () => {
    const file = path.join(dir, 'sub', 'kek.hex');
    const kms = fileKeyEncryption(file, { create: true });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const other = fileKeyEncryption(path.join(dir, 'other.hex'), { create: true });
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 512 }),
        fc.string(),
        async (bytes, context) => {
          const sealed = await kms.seal(Buffer.from(bytes), context);
          expect(isSealed(sealed)).toBe(true);
          expect((await kms.open(sealed, context)).equals(Buffer.from(bytes))).toBe(true);
          await expect(kms.open(sealed, `${context}x`)).rejects.toThrow(KeyEncryptionError);
          await expect(other.open(sealed, context)).rejects.toThrow(/sealed with key/);
        },
      ),
      { numRuns: 50 },
    );
    // The same file gives the same key on the next start.
    const again = fileKeyEncryption(file);
    expect(again.keyId).toBe(kms.keyId);
    expect((await again.open(await kms.seal(Buffer.from('pem'), 'row'), 'row')).toString()).toBe('pem');
  });

  it('refuses a missing file outside dev, a file others can read, and one that is not 32 hex bytes', () => {
    const missing = path.join(dir, 'missing.hex');
    expect(() => fileKeyEncryption(missing)).toThrow(
      /does not exist; create it with: \(umask 077; openssl rand -hex 32/,
    );
    const open = path.join(dir, 'open.hex');
    fs.writeFileSync(open, `${'ab'.repeat(32)}\n`, { mode: 0o644 });
    fs.chmodSync(open, 0o644);
    expect(() => fileKeyEncryption(open)).toThrow(/readable by others \(mode 644\); run: chmod 600/);
    const short = path.join(dir, 'short.hex');
    fs.writeFileSync(short, 'abcd\n', { mode: 0o600 });
    expect(() => fileKeyEncryption(short)).toThrow(/must hold 64 hex characters/);
  });

  it('refuses a sealed value that was altered', async () => {
    const kms = fileKeyEncryption(path.join(dir, 'kek.hex'), { create: true });
    const sealed = await kms.seal(Buffer.from('private key'), 'identity.signing_keys/k1');
    const body = sealed.slice(sealed.lastIndexOf(':') + 1);
    const flipped = `${sealed.slice(0, sealed.lastIndexOf(':') + 1)}${body[0] === 'A' ? 'B' : 'A'}${body.slice(1)}`;
    await expect(kms.open(flipped, 'identity.signing_keys/k1')).rejects.toThrow(
      /does not open with this key/,
    );
  });
});
