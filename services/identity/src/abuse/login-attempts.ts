import { Inject, Injectable } from '@nestjs/common';
import { IDENTITY_STREAMS, LOGIN_FAILURE_REASONS, SYSTEM_ORG } from '@palisade/contracts';
import type { IdentityEvent } from '@palisade/contracts';
import type { Clock } from '@palisade/domain';
import { CLOCK, SERVICE_CONFIG, ServiceRuntime } from '@palisade/runtime';
import { sql } from 'kysely';
import type { IdentityConfig } from '../identity.config';
import { IdentityDatabase } from '../identity.database';
import { inTransaction } from '../identity.transaction';
import { loginFailures } from './login.metrics';

export type LoginFailureReason = (typeof LOGIN_FAILURE_REASONS)[number];

const MAX_LOCKOUT_MS = 24 * 3600 * 1000;

/**
 * Failed sign-ins, persisted: every failure is a login.failed event; an account that fails
 * IDENTITY_LOCKOUT_THRESHOLD times in a row is locked, for IDENTITY_LOCKOUT_SECONDS and twice
 * as long with every further failure (at most a day). A success clears the count.
 */
@Injectable()
export class LoginAttempts {
  private readonly failures = loginFailures();

  constructor(
    private readonly runtime: ServiceRuntime,
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Until when an account is locked (undefined when it may try). */
  async lockedUntil(account: string): Promise<Date | undefined> {
    const row = await (this.runtime.db as IdentityDatabase)
      .selectFrom('login_attempts')
      .select('locked_until')
      .where('account', '=', account)
      .executeTakeFirst();
    const until = row?.locked_until ? new Date(row.locked_until) : undefined;
    return until && until.getTime() > this.clock.now() ? until : undefined;
  }

  /** Counts a failure for `account` (when given) and records login.failed; returns the lock, if any. */
  async recordFailure(
    method: 'oidc' | 'bootstrap',
    reason: LoginFailureReason,
    account?: { key: string; userId?: string },
  ): Promise<Date | undefined> {
    const locked = await inTransaction(this.runtime, async (trx) => {
      let lockedUntil: Date | undefined;
      if (account) {
        const { rows } = await sql<{ failures: number }>`
          insert into login_attempts (account, failures, last_failure_at) values (${account.key}, 1, now())
          on conflict (account) do update set failures = login_attempts.failures + 1, last_failure_at = now()
          returning failures`.execute(trx);
        const over = rows[0].failures - this.config.IDENTITY_LOCKOUT_THRESHOLD;
        if (over >= 0) {
          const ms = Math.min(
            MAX_LOCKOUT_MS,
            this.config.IDENTITY_LOCKOUT_SECONDS * 1000 * 2 ** Math.min(over, 20),
          );
          lockedUntil = new Date(this.clock.now() + ms);
          await trx
            .updateTable('login_attempts')
            .set({ locked_until: lockedUntil })
            .where('account', '=', account.key)
            .execute();
        }
      }
      await this.runtime.store.append<IdentityEvent>(trx, {
        streamId: IDENTITY_STREAMS.loginFailures,
        expectedVersion: 'any',
        events: [
          {
            type: 'login.failed',
            data: {
              method,
              reason,
              ...(account?.userId ? { userId: account.userId } : {}),
              ...(lockedUntil ? { lockedUntil: lockedUntil.toISOString() } : {}),
            },
          },
        ],
        metadata: { orgId: SYSTEM_ORG, actor: 'system' },
      });
      return lockedUntil;
    });
    this.failures.inc({ method, reason });
    return locked;
  }

  async recordSuccess(account: string): Promise<void> {
    await (this.runtime.db as IdentityDatabase)
      .deleteFrom('login_attempts')
      .where('account', '=', account)
      .execute();
  }
}
