import { randomBytes } from 'node:crypto';
import { keyCheck, openValue, rewrapKey, sealValue } from '../src/local-store/envelope';

const at = { orgId: 'acme', workspaceId: 'api', name: 'DATABASE_URL', version: 3 };

describe('local store envelopes (AES-256-GCM value under a data key, data key under a master key)', () => {
  const master = randomBytes(32);

  it('opens what it sealed, and the ciphertext does not hold the value', () => {
    const envelope = sealValue(master, 'mk-1', at, 'postgres://app:s3cr3t@db/app');
    expect(envelope.ciphertext.toString('utf8')).not.toContain('s3cr3t');
    expect(envelope.wrappedKey).toHaveLength(60);
    expect(openValue(master, at, envelope)).toBe('postgres://app:s3cr3t@db/app');
  });

  it('binds each envelope to its secret and version: a row moved to another place does not open', () => {
    const envelope = sealValue(master, 'mk-1', at, 'value');
    for (const moved of [
      { ...at, version: 4 },
      { ...at, name: 'API_KEY' },
      { ...at, workspaceId: 'web' },
      { ...at, orgId: 'other' },
    ])
      expect(() => openValue(master, moved, envelope)).toThrow();
    expect(() => openValue(randomBytes(32), at, envelope)).toThrow();
    expect(() => openValue(master, at, { ...envelope, keyId: 'mk-2' })).toThrow();
    const tampered = Buffer.from(envelope.ciphertext);
    tampered[0] ^= 1;
    expect(() => openValue(master, at, { ...envelope, ciphertext: tampered })).toThrow();
  });

  it('re-wraps the data key under a new master key without touching the value’s ciphertext', () => {
    const envelope = sealValue(master, 'mk-1', at, 'value');
    const next = randomBytes(32);
    const wrappedKey = rewrapKey(
      { key: master, keyId: 'mk-1' },
      { key: next, keyId: 'mk-2' },
      at,
      envelope.wrappedKey,
    );
    const rewrapped = { ...envelope, keyId: 'mk-2', wrappedKey };
    expect(openValue(next, at, rewrapped)).toBe('value');
    expect(() => openValue(master, at, rewrapped)).toThrow();
  });

  it('tells keys apart by a check value that reveals nothing of the key', () => {
    expect(keyCheck(master).equals(keyCheck(Buffer.from(master)))).toBe(true);
    expect(keyCheck(master).equals(keyCheck(randomBytes(32)))).toBe(false);
    expect(keyCheck(master).includes(master)).toBe(false);
  });
});
