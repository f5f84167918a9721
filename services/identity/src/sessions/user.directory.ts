import { Injectable } from '@nestjs/common';
import { IDENTITY_STREAMS, SYSTEM_ORG } from '@palisade/contracts';
import type { IdentityEvent } from '@palisade/contracts';
import { ServiceRuntime } from '@palisade/runtime';
import { IdentityDatabase } from '../identity.database';
import { inTransaction } from '../identity.transaction';
import { randomId } from '../tokens/token.issuer';

export interface ExternalIdentity {
  /** OIDC issuer, or BOOTSTRAP_ISSUER. */
  issuer: string;
  /** The provider's `sub` (or the bootstrap user name). */
  subject: string;
  displayName?: string;
  method: 'oidc' | 'bootstrap';
  isAdmin?: boolean;
}

/** Issuer of the bootstrap admin account. */
export const BOOTSTRAP_ISSUER = 'palisade:bootstrap';

/** Users by (issuer, subject): the first sign-in registers them (user.registered). */
@Injectable()
export class UserDirectory {
  constructor(private readonly runtime: ServiceRuntime) {}

  async findOrRegister(
    identity: ExternalIdentity,
    db?: IdentityDatabase,
  ): Promise<{ userId: string; created: boolean }> {
    const register = async (trx: IdentityDatabase) => {
      const userId = randomId();
      const inserted = await trx
        .insertInto('users')
        .values({
          user_id: userId,
          issuer: identity.issuer,
          subject: identity.subject,
          display_name: identity.displayName ?? null,
          is_admin: identity.isAdmin ?? false,
        })
        .onConflict((oc) => oc.constraint('users_issuer_subject').doNothing())
        .returning('user_id')
        .executeTakeFirst();
      if (!inserted) {
        const existing = await trx
          .selectFrom('users')
          .select('user_id')
          .where('issuer', '=', identity.issuer)
          .where('subject', '=', identity.subject)
          .executeTakeFirstOrThrow();
        return { userId: existing.user_id, created: false };
      }
      await this.runtime.store.append<IdentityEvent>(trx, {
        streamId: IDENTITY_STREAMS.user(userId),
        expectedVersion: 0,
        events: [
          {
            type: 'user.registered',
            data: {
              userId,
              method: identity.method,
              issuer: identity.issuer,
              ...(identity.displayName ? { displayName: identity.displayName.slice(0, 200) } : {}),
            },
          },
        ],
        metadata: { orgId: SYSTEM_ORG, actor: `user:${userId}` },
      });
      return { userId, created: true };
    };
    return db ? register(db) : inTransaction(this.runtime, register);
  }

  async isAdmin(userId: string): Promise<boolean> {
    const row = await (this.runtime.db as IdentityDatabase)
      .selectFrom('users')
      .select('is_admin')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.is_admin === true;
  }
}
