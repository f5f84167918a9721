import { gauge, histogram, onCollect } from '@palisade/observability';
import type { AnyDatabase } from '@palisade/persistence';
import { sql } from 'kysely';

/** Time to append one consumer batch to the log (hash chain, Merkle nodes, checkpoint when due). */
export function auditAppendDuration() {
  return histogram(
    'palisade_audit_append_duration_seconds',
    'Time to append one batch of events to the audit log',
    [],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
}

/**
 * The log's size and its newest signed checkpoint, read from the audit schema on every scrape:
 * the append rate is the growth of the first, the checkpoint age `time() - ` the second.
 */
export function reportAuditLog(db: () => AnyDatabase): void {
  const entries = gauge('palisade_audit_log_entries', 'Entries in the audit log (its highest sequence)');
  const checkpointSize = gauge(
    'palisade_audit_checkpoint_entries',
    'Entries covered by the newest signed checkpoint (its tree size)',
  );
  const checkpointTime = gauge(
    'palisade_audit_checkpoint_timestamp_seconds',
    'When the newest checkpoint was signed (Unix time)',
  );
  const read = async () => {
    const { rows } = await sql<{ entries: string | null; size: string | null; issued: Date | null }>`
      select (select max(sequence) from audit_log) as entries,
             c.tree_size as size, c.issued_at as issued
      from (select 1) one
      left join lateral (select tree_size, issued_at from audit_checkpoints order by position desc limit 1) c on true
    `.execute(db());
    return rows[0];
  };
  let reading: Promise<Awaited<ReturnType<typeof read>> | undefined> | undefined;
  // One query per scrape for the three gauges.
  const shared = () =>
    (reading ??= read()
      .catch(() => undefined)
      .finally(() => setImmediate(() => (reading = undefined))));
  onCollect(entries, async () => {
    const row = await shared();
    if (row) entries.set(Number(row.entries ?? 0));
  });
  onCollect(checkpointSize, async () => {
    const row = await shared();
    if (row) checkpointSize.set(Number(row.size ?? 0));
  });
  onCollect(checkpointTime, async () => {
    const row = await shared();
    if (row?.issued) checkpointTime.set(row.issued.getTime() / 1000);
  });
}
