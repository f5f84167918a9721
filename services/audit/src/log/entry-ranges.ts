// Ranges of the audit log read in bulk. Light on purpose (pg and the COPY decoder, no kysely, no
// domain index): the verification worker threads load it.
import type { AnyDatabase } from '@palisade/persistence';
import { binaryCopyRows, copyOut, CopyTuple } from '@palisade/persistence/copy';
import type { Pool } from 'pg';
import type { AuditEntry } from '../domain/audit-entry';

/**
 * Up to `limit` entries (Infinity: the rest of the log) from sequence `first` on, in pages as
 * they arrive: one binary COPY, so Postgres renders no hex and node builds no row objects beyond
 * the entries (about four times the rows per second of paged SELECTs). Postgres sends ahead
 * while the caller works on a page (up to a megabyte ahead).
 */
export function rangePages(
  source: AnyDatabase | Pool,
  first: number,
  limit: number,
): AsyncGenerator<AuditEntry[]> {
  if (!Number.isSafeInteger(first) || !(Number.isSafeInteger(limit) || limit === Infinity))
    throw new RangeError('a range is given by whole numbers');
  const upTo = limit === Infinity ? '' : `and sequence < ${first + limit}`;
  // The numbers are checked integers: COPY takes no parameters.
  const statement = `copy (
    select sequence, event_id, event_time, type, org_id, actor, subject, canonical, checksum, prev_hash, hash
    from audit_log where sequence >= ${first} ${upTo} order by sequence) to stdout (format binary)`;
  return binaryCopyRows(copyOut(source, statement), toEntry);
}

/** A row of rangePages's COPY as an entry; a NULL (the table forbids it) reads as empty text. */
function toEntry(row: CopyTuple): AuditEntry {
  return {
    sequence: row.int8(0) ?? 0,
    eventId: row.uuid(1) ?? '',
    time: row.timestamp(2) ?? '',
    type: row.text(3) ?? '',
    orgId: row.text(4) ?? '',
    actor: row.text(5) ?? '',
    subject: row.text(6) ?? '',
    canonical: row.text(7) ?? '',
    checksum: row.hex(8) ?? '',
    prevHash: row.hex(9) ?? '',
    hash: row.hex(10) ?? '',
  };
}
