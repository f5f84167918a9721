import { SECRETS, SECRETS_EVENTS, SYSTEM_ORG } from '@palisade/contracts';
import { createDatabase, EventStore, outboxChannel, verifyMigrated } from '@palisade/persistence';
import { sql } from 'kysely';
import { secretsMigrations } from '../../migrations';
import { rotateLocalMasterKey, RotationResult } from '../local-store/key-rotation';

/**
 * `palisade secret rotate-key`: rotates the local store's master key against the secrets schema
 * (the running service keeps serving meanwhile) and records `secret_key.rotated` in the service's
 * event store, whose relay publishes it. Whoever can read the key file and reach the database
 * may run it: the key file is the authority over the local store.
 */
export async function rotateMasterKey(options: {
  databaseUrl: string;
  keyFile: string;
  /** Data keys re-wrapped per transaction (default 200). */
  batchSize?: number;
  /** Called after each batch (progress; tests run traffic there). */
  afterBatch?: (rewrapped: number) => Promise<void>;
  /** When the rotation is recorded as done (ms since the epoch). */
  now: () => number;
}): Promise<RotationResult> {
  const db = createDatabase({ url: options.databaseUrl, schema: SECRETS.schema, poolSize: 2 });
  try {
    await verifyMigrated(db, SECRETS.schema, secretsMigrations);
    const result = await rotateLocalMasterKey(db, options.keyFile, options);
    await new EventStore(SECRETS, SECRETS_EVENTS).append(db, {
      streamId: 'local-master-key',
      expectedVersion: 'any',
      events: [
        { type: 'secret_key.rotated', data: { ...result, rotatedAt: new Date(options.now()).toISOString() } },
      ],
      metadata: { orgId: SYSTEM_ORG, actor: 'system' },
    });
    // The running service's relay hears this and publishes the event now (it would at its next poll).
    await sql`select pg_notify(${outboxChannel(SECRETS.schema)}, '')`.execute(db);
    return result;
  } finally {
    await db.destroy();
  }
}
