import { randomBytes } from 'node:crypto';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ACCESS_TOKEN_ALGORITHM, IDENTITY_STREAMS, SYSTEM_ORG } from '@palisade/contracts';
import type { IdentityEvent } from '@palisade/contracts';
import { CLOCK_TOLERANCE_SECONDS } from '@palisade/auth';
import { fileKeyEncryption, isSealed } from '@palisade/config';
import type { KeyEncryption } from '@palisade/config';
import type { Clock } from '@palisade/domain';
import { CLOCK, SERVICE_CONFIG, ServiceRuntime } from '@palisade/runtime';
import { exportJWK, exportPKCS8, generateKeyPair, importPKCS8, JWK } from 'jose';
import { sql } from 'kysely';
import { DEV_KEY_ENCRYPTION_KEY_FILE } from '../identity.config';
import type { IdentityConfig } from '../identity.config';
import { IdentityDatabase } from '../identity.database';
import { inTransaction } from '../identity.transaction';

type SigningKey = Awaited<ReturnType<typeof importPKCS8>>;

/** The key new access tokens are signed with. */
export interface ActiveSigningKey {
  kid: string;
  key: SigningKey;
  createdAt: number;
}

/** Advisory lock id serializing key rotation across replicas. */
const ROTATION_LOCK = 0x1d3e7;

/** The key encryption key that seals the private halves in `signing_keys` (not in the database). */
export const SIGNING_KEY_ENCRYPTION = Symbol('palisade.identity.signing-key-encryption');

/** The key file of IDENTITY_KEY_ENCRYPTION_KEY_FILE; dev and demo create theirs when it is missing. */
export function signingKeyEncryption(config: IdentityConfig): KeyEncryption {
  return fileKeyEncryption(config.IDENTITY_KEY_ENCRYPTION_KEY_FILE ?? DEV_KEY_ENCRYPTION_KEY_FILE, {
    create: config.PALISADE_MODE !== 'production',
  });
}

/** What a sealed private key is bound to: its own row. */
const sealContext = (kid: string) => `identity.signing_keys/${kid}`;

/**
 * Identity's Ed25519 signing keys, persisted in Postgres with their private halves sealed by a
 * key encryption key kept outside it (IDENTITY_KEY_ENCRYPTION_KEY_FILE). One key is active; when it is older
 * than IDENTITY_KEY_ROTATION_SECONDS a new one replaces it (signing_key.rotated) and the old
 * one stays in the JWKS until the last token it signed has expired.
 */
@Injectable()
export class SigningKeyRing implements OnModuleInit, OnApplicationShutdown {
  private active?: ActiveSigningKey;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly runtime: ServiceRuntime,
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SIGNING_KEY_ENCRYPTION) private readonly encryption: KeyEncryption,
  ) {}

  private get db(): IdentityDatabase {
    return this.runtime.db as IdentityDatabase;
  }

  async onModuleInit(): Promise<void> {
    await this.sealPlainKeys();
    await this.ensureCurrent();
    // Pick up rotations by other replicas and rotate on time.
    this.timer = setInterval(() => void this.ensureCurrent().catch(() => undefined), 60_000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** The key to sign with now. */
  async current(): Promise<ActiveSigningKey> {
    if (!this.active || this.isDue(this.active.createdAt)) await this.ensureCurrent();
    return this.active!;
  }

  /** Rotates now, whatever the age of the active key (admin action, tests). */
  async rotate(): Promise<ActiveSigningKey> {
    await this.ensureCurrent(true);
    return this.active!;
  }

  /** The public keys that may have signed a still-valid token. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .select(['public_jwk'])
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date(this.clock.now()))]))
      .orderBy('created_at', 'desc')
      .execute();
    return { keys: rows.map((row) => row.public_jwk as JWK) };
  }

  private isDue(createdAt: number): boolean {
    return this.clock.now() - createdAt >= this.config.IDENTITY_KEY_ROTATION_SECONDS * 1000;
  }

  private async ensureCurrent(force = false): Promise<void> {
    const row = await this.loadActive();
    if (row && !force && !this.isDue(row.createdAt)) {
      this.active = row;
      return;
    }
    await inTransaction(this.runtime, async (trx) => {
      await sql`select pg_advisory_xact_lock(${ROTATION_LOCK})`.execute(trx);
      const current = await this.loadActive(trx);
      // Another replica rotated while we waited for the lock.
      if (current && (current.kid !== row?.kid || (!force && !this.isDue(current.createdAt)))) return;
      const kid = randomBytes(12).toString('base64url');
      const { publicKey, privateKey } = await generateKeyPair(ACCESS_TOKEN_ALGORITHM, { extractable: true });
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ACCESS_TOKEN_ALGORITHM, use: 'sig' };
      const now = new Date(this.clock.now());
      const retiresAt = new Date(
        now.getTime() + (this.config.IDENTITY_ACCESS_TOKEN_TTL_SECONDS + CLOCK_TOLERANCE_SECONDS) * 1000,
      );
      if (current) {
        await trx
          .updateTable('signing_keys')
          .set({ retired_at: now, expires_at: retiresAt })
          .where('kid', '=', current.kid)
          .execute();
      }
      await trx
        .insertInto('signing_keys')
        .values({
          kid,
          public_jwk: JSON.stringify(publicJwk),
          private_pkcs8: await this.encryption.seal(
            Buffer.from(await exportPKCS8(privateKey)),
            sealContext(kid),
          ),
          created_at: now,
          retired_at: null,
          expires_at: null,
        })
        .execute();
      await this.runtime.store.append<IdentityEvent>(trx, {
        streamId: IDENTITY_STREAMS.signingKey(kid),
        expectedVersion: 0,
        events: [
          {
            type: 'signing_key.rotated',
            data: {
              kid,
              alg: ACCESS_TOKEN_ALGORITHM,
              ...(current ? { previousKid: current.kid, previousKeyRetiresAt: retiresAt.toISOString() } : {}),
            },
          },
        ],
        metadata: { orgId: SYSTEM_ORG, actor: 'service:identity' },
      });
    });
    this.active = await this.loadActive();
  }

  private async loadActive(db: IdentityDatabase = this.db): Promise<ActiveSigningKey | undefined> {
    const row = await db
      .selectFrom('signing_keys')
      .select(['kid', 'private_pkcs8', 'created_at'])
      .where('retired_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    if (this.active?.kid === row.kid) return this.active;
    const pem = (await this.encryption.open(row.private_pkcs8, sealContext(row.kid))).toString();
    return {
      kid: row.kid,
      key: await importPKCS8(pem, ACCESS_TOKEN_ALGORITHM),
      createdAt: new Date(row.created_at).getTime(),
    };
  }

  /** Keys written before they were sealed (plain PKCS#8 PEM) are sealed in place. */
  private async sealPlainKeys(): Promise<void> {
    const rows = await this.db.selectFrom('signing_keys').select(['kid', 'private_pkcs8']).execute();
    for (const row of rows.filter((r) => !isSealed(r.private_pkcs8))) {
      await this.db
        .updateTable('signing_keys')
        .set({
          private_pkcs8: await this.encryption.seal(Buffer.from(row.private_pkcs8), sealContext(row.kid)),
        })
        .where('kid', '=', row.kid)
        .where('private_pkcs8', '=', row.private_pkcs8)
        .execute();
    }
  }
}
