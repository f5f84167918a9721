// Ranges of the audit log read in bulk. Light on purpose (pg and the COPY decoder, no kysely, no
// domain index): the verification worker threads load it.
import type { AnyDatabase } from '@palisade/persistence';
import { binaryCopyRows, copyOut, CopyTuple } from '@palisade/persistence/copy';
import type { Pool } from 'pg';
import type { AuditEntry } from '../domain/audit-entry';
import type { Digest } from '../domain/hash-chain';
import type { DigestEntry } from '../domain/range-check';

type Source = AnyDatabase | Pool;

/**
 * Up to `limit` entries (Infinity: the rest of the log) from sequence `first` on, in pages as
 * they arrive: one binary COPY, so Postgres renders no hex and node builds no row objects beyond
 * the entries (about four times the rows per second of paged SELECTs). Postgres sends ahead
 * while the caller works on a page (up to a megabyte ahead).
 */
export function rangePages(source: Source, first: number, limit: number): AsyncGenerator<AuditEntry[]> {
  return binaryCopyRows(copyOut(source, rangeCopy(first, limit)), toEntry);
}

/** The same range with the hashes as Digests, as the verifier's checks take them (no hex at all). */
export function digestRangePages(
  source: Source,
  first: number,
  limit: number,
): AsyncGenerator<DigestEntry[]> {
  return binaryCopyRows(copyOut(source, rangeCopy(first, limit)), toDigestEntry);
}

function rangeCopy(first: number, limit: number): string {
  if (!Number.isSafeInteger(first) || !(Number.isSafeInteger(limit) || limit === Infinity))
    throw new RangeError('a range is given by whole numbers');
  const upTo = limit === Infinity ? '' : `and sequence < ${first + limit}`;
  // The numbers are checked integers: COPY takes no parameters.
  return `copy (
    select sequence, event_id, event_time, type, org_id, actor, subject, canonical, checksum, prev_hash, hash
    from audit_log where sequence >= ${first} ${upTo} order by sequence) to stdout (format binary)`;
}

/**
 * Decodes a row of the range's COPY as an entry, its hashes by `hash` (a NULL, which the table
 * forbids, reads as empty text). One object per row, built in place: this runs for every entry.
 */
function entryDecoder<H extends string>(hash: (row: CopyTuple, field: number) => H) {
  return (row: CopyTuple) => ({
    sequence: row.int8(0) ?? 0,
    eventId: row.uuid(1) ?? '',
    time: row.timestamp(2) ?? '',
    type: row.text(3) ?? '',
    orgId: row.text(4) ?? '',
    actor: row.text(5) ?? '',
    subject: row.text(6) ?? '',
    canonical: row.text(7) ?? '',
    checksum: hash(row, 8),
    prevHash: hash(row, 9),
    hash: hash(row, 10),
  });
}

const toEntry: (row: CopyTuple) => AuditEntry = entryDecoder((row, field) => row.hex(field) ?? '');
/** Hashes as Digests: '' for a NULL equals no digest. */
const toDigestEntry: (row: CopyTuple) => DigestEntry = entryDecoder(
  (row, field) => (row.binary(field) ?? '') as Digest,
);
