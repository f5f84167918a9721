import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The local store's master keys: one current (new values), older ones while a rotation re-wraps. */
export interface KeyRing {
  current: string;
  keys: Map<string, Buffer>;
}

const FORMAT = 'palisade-local-master-keys/1';

/** The key file is unusable (missing, readable by others, malformed); the message says how to fix it. */
export class KeyFileError extends Error {
  readonly code = 'key_file_invalid';
}

/** A new master key and its id. */
export function newMasterKey(): { keyId: string; key: Buffer } {
  return {
    keyId: `mk-${randomBytes(8).toString('hex')}`,
    key: randomBytes(32),
  };
}

/** Reads the key file; undefined when there is none. Refuses a file that others can read. */
export function readKeyFile(file: string): KeyRing | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KeyFileError(`cannot read the master key file ${file}: ${(error as Error).message}`);
  }
  if (!stat.isFile()) throw new KeyFileError(`the master key file ${file} is not a regular file`);
  if (stat.mode & 0o077)
    throw new KeyFileError(
      `the master key file ${file} can be read by others (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 ${file}`,
    );
  let parsed: { format?: unknown; current?: unknown; keys?: unknown };
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new KeyFileError(`the master key file ${file} is not JSON; restore it from your backup`);
  }
  const keys = new Map<string, Buffer>();
  if (parsed.format === FORMAT && parsed.keys && typeof parsed.keys === 'object')
    for (const [id, value] of Object.entries(parsed.keys as Record<string, unknown>)) {
      const key = typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.alloc(0);
      if (key.length === 32 && /^[A-Za-z0-9_-]{1,64}$/.test(id)) keys.set(id, key);
    }
  if (
    typeof parsed.current !== 'string' ||
    !keys.has(parsed.current) ||
    keys.size !== Object.keys(parsed.keys ?? {}).length
  )
    throw new KeyFileError(
      `the master key file ${file} is not a ${FORMAT} file; restore it from your backup`,
    );
  return { current: parsed.current, keys };
}

/** Writes the key file atomically with mode 0600 (its folder is created 0700 when missing). */
export function writeKeyFile(file: string, ring: KeyRing): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const body = JSON.stringify({
    format: FORMAT,
    current: ring.current,
    keys: Object.fromEntries([...ring.keys].map(([id, key]) => [id, key.toString('base64')])),
  });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${body}\n`, { mode: 0o600, flag: 'w' });
  fs.chmodSync(temporary, 0o600);
  fs.renameSync(temporary, file);
}
