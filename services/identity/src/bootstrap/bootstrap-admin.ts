import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { SERVICE_CONFIG, ServiceRuntime } from '@palisade/runtime';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { SERVICE_LOGGER } from '@palisade/runtime';
import type { IdentityConfig } from '../identity.config';
import { IdentityDatabase } from '../identity.database';
import { inTransaction } from '../identity.transaction';
import { BOOTSTRAP_ISSUER, UserDirectory } from '../sessions/user.directory';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const BOOTSTRAP_LOCK = 0x1d3e8;
export const BOOTSTRAP_USERNAME = 'admin';

/** `scrypt$N$r$p$salt$hash` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32, SCRYPT);
  return [
    'scrypt',
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt') return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(actual, expected);
}

/**
 * On an empty install without an OIDC issuer, creates the first admin with a random one-time
 * password (192 bits), stored as a scrypt hash and written once to IDENTITY_BOOTSTRAP_FILE
 * with mode 0600. There is no default credential; with OIDC configured there is none at all.
 */
@Injectable()
export class BootstrapAdmin implements OnModuleInit {
  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly users: UserDirectory,
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.PALISADE_OIDC_ISSUER) return;
    const password = randomBytes(24).toString('base64url');
    const passwordHash = await hashPassword(password);
    const created = await inTransaction(this.runtime, async (trx) => {
      await sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
      const anyone = await trx.selectFrom('users').select('user_id').limit(1).executeTakeFirst();
      if (anyone) return false;
      const { userId } = await this.users.findOrRegister(
        {
          issuer: BOOTSTRAP_ISSUER,
          subject: BOOTSTRAP_USERNAME,
          method: 'bootstrap',
          isAdmin: true,
          displayName: 'Bootstrap admin',
        },
        trx,
      );
      await trx
        .insertInto('bootstrap_credentials')
        .values({ user_id: userId, username: BOOTSTRAP_USERNAME, password_hash: passwordHash })
        .execute();
      this.writeCredentialFile(password);
      return true;
    });
    if (created)
      this.logger.warn(
        { file: path.resolve(this.config.IDENTITY_BOOTSTRAP_FILE) },
        'created the bootstrap admin: its one-time credential is in this file (mode 0600); sign in and set up OIDC',
      );
  }

  /** Written before the transaction commits: a failure here leaves no admin without a credential. */
  private writeCredentialFile(password: string): void {
    const file = path.resolve(this.config.IDENTITY_BOOTSTRAP_FILE);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.rmSync(file, { force: true });
    const content = JSON.stringify({
      username: BOOTSTRAP_USERNAME,
      password,
      note: 'one-time bootstrap credential',
    });
    fs.writeFileSync(file, `${content}\n`, { mode: 0o600, flag: 'wx' });
    fs.chmodSync(file, 0o600);
  }

  /** The bootstrap admin's user id when the credential is right. */
  async check(username: string, password: string): Promise<{ userId: string } | undefined> {
    const row = await (this.runtime.db as IdentityDatabase)
      .selectFrom('bootstrap_credentials')
      .select(['user_id', 'password_hash'])
      .where('username', '=', username)
      .executeTakeFirst();
    // Unknown users cost the same scrypt as known ones.
    const ok = await verifyPassword(password, row?.password_hash ?? (await this.dummyHash()));
    return row && ok ? { userId: row.user_id } : undefined;
  }

  private dummy?: Promise<string>;
  private dummyHash(): Promise<string> {
    this.dummy ??= hashPassword(randomBytes(24).toString('base64url'));
    return this.dummy;
  }
}
