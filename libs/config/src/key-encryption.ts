import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Encrypts small secrets kept in a database (private keys) with a key that is not in that
 * database. Implementations: a key file (dev, or a mounted Secret), or a cloud KMS behind the
 * same two calls. `context` is bound to the ciphertext (AES-GCM additional data): a sealed
 * value copied to another row does not open there.
 */
export interface KeyEncryption {
  /** Which key seals new values (stored in each sealed value, so keys can change). */
  readonly keyId: string;
  seal(plaintext: Buffer, context: string): Promise<string>;
  open(sealed: string, context: string): Promise<Buffer>;
}

export class KeyEncryptionError extends Error {
  readonly code = 'key_encryption';
}

const PREFIX = 'sealed:v1';
const KEY_BYTES = 32;

/** Whether a stored value was sealed by a KeyEncryption (rather than kept in plain text). */
export function isSealed(value: string): boolean {
  return value.startsWith(`${PREFIX}:`);
}

/**
 * AES-256-GCM with a 32-byte key read from a file: 64 hex characters (`openssl rand -hex 32`).
 * The file must be readable by its owner only (mode 0600 or 0400); `create` writes a new
 * random one when it is missing (dev).
 */
export function fileKeyEncryption(file: string, options: { create?: boolean } = {}): KeyEncryption {
  const key = readKeyFile(path.resolve(file), options.create ?? false);
  const keyId = createHash('sha256').update(key).digest('hex').slice(0, 16);
  return {
    keyId,
    async seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
      return `${PREFIX}:${keyId}:${sealed}`;
    },
    async open(sealed, context) {
      const [prefix, version, id, data] = sealed.split(':');
      if (`${prefix}:${version}` !== PREFIX || !data)
        throw new KeyEncryptionError('the stored value is not sealed by a key encryption key');
      if (id !== keyId)
        throw new KeyEncryptionError(
          `the stored value was sealed with key ${id}, not with this key file's ${keyId}; restore the key file it was sealed with`,
        );
      const raw = Buffer.from(data, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(raw.subarray(12, 28));
      try {
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
      } catch {
        throw new KeyEncryptionError(
          'the stored value does not open with this key (altered, or moved from another row)',
        );
      }
    },
  };
}

function readKeyFile(file: string, create: boolean): Buffer {
  if (!fs.existsSync(file)) {
    if (!create)
      throw new KeyEncryptionError(
        `the key encryption key file ${file} does not exist; create it with: (umask 077; openssl rand -hex 32 > ${file})`,
      );
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // Written whole under another name, then linked into place: a concurrent start reads either
    // no file or a complete one, and the first link wins.
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(draft, `${randomBytes(KEY_BYTES).toString('hex')}\n`, { mode: 0o600 });
    try {
      fs.linkSync(draft, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      fs.rmSync(draft, { force: true });
    }
  }
  const stat = fs.statSync(file);
  if ((stat.mode & 0o077) !== 0)
    throw new KeyEncryptionError(
      `the key encryption key file ${file} is readable by others (mode ${(stat.mode & 0o777).toString(8)}); run: chmod 600 ${file}`,
    );
  const text = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text))
    throw new KeyEncryptionError(
      `the key encryption key file ${file} must hold 64 hex characters (32 bytes), e.g. from: openssl rand -hex 32`,
    );
  return Buffer.from(text, 'hex');
}
