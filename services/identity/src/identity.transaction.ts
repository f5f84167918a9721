import { ServiceRuntime } from '@palisade/runtime';
import { IdentityDatabase } from './identity.database';

/**
 * Runs `work` in one transaction of the identity database and, once it has committed, wakes
 * the outbox relay if it appended events (so that revocations travel at once, not at the next poll).
 */
export async function inTransaction<T>(
  runtime: ServiceRuntime,
  work: (trx: IdentityDatabase) => Promise<T>,
): Promise<T> {
  let transaction: IdentityDatabase | undefined;
  const result = await (runtime.db as IdentityDatabase).transaction().execute(async (trx) => {
    transaction = trx;
    return work(trx);
  });
  runtime.store.afterCommit(transaction!);
  return result;
}
