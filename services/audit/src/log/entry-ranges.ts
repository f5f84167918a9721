// Ranges of the audit log read in bulk. Light on purpose (pg and the COPY decoder, no kysely, no
// domain index): the verification worker threads load it.
import type { AnyDatabase } from '@palisade/persistence';
import { binaryCopyRows, copyOut, CopyTuple } from '@palisade/persistence/copy';
import type { Pool } from 'pg';
import { AuditEntry, columnMismatch, EntryColumns } from '../domain/audit-entry';
import { Digest, entryChecksumDigest } from '../domain/hash-chain';
import type { PreparedEntry } from '../domain/range-check';

type Source = AnyDatabase | Pool;

/**
 * Up to `limit` entries (Infinity: the rest of the log) from sequence `first` on, in pages as
 * they arrive: one binary COPY, so Postgres renders no hex and node builds no row objects beyond
 * the entries (about four times the rows per second of paged SELECTs). Postgres sends ahead
 * while the caller works on a page (up to a megabyte ahead).
 */
export function rangePages(source: Source, first: number, limit: number): AsyncGenerator<AuditEntry[]> {
  return binaryCopyRows(copyOut(source, rangeCopy(first, limit), RANGE_READ_SETTINGS), toEntry);
}

/** The same range as the verifier's checks take it (PreparedEntry: no hex, no decoded text). */
export function preparedRangePages(
  source: Source,
  first: number,
  limit: number,
): AsyncGenerator<PreparedEntry[]> {
  return binaryCopyRows(copyOut(source, rangeCopy(first, limit), RANGE_READ_SETTINGS), toPreparedEntry);
}

/**
 * A range is read in key order straight from the primary key, never sorted: without statistics
 * (a log just written or restored, before autovacuum has analyzed it) the planner otherwise picks
 * a bitmap or sequential scan and sorts every range. Read so, a log of 200,000 entries just
 * written went at half the rows per second.
 */
export const RANGE_READ_SETTINGS = { enable_sort: 'off' } as const;

/** The query a range is read with (see RANGE_READ_SETTINGS). */
export function rangeQuery(first: number, limit: number): string {
  if (!Number.isSafeInteger(first) || !(Number.isSafeInteger(limit) || limit === Infinity))
    throw new RangeError('a range is given by whole numbers');
  const upTo = limit === Infinity ? '' : `and sequence < ${first + limit}`;
  // The numbers are checked integers: COPY takes no parameters.
  return `select sequence, event_id, event_time, type, org_id, actor, subject, canonical, checksum, prev_hash, hash
    from audit_log where sequence >= ${first} ${upTo} order by sequence`;
}

function rangeCopy(first: number, limit: number): string {
  return `copy (${rangeQuery(first, limit)}) to stdout (format binary)`;
}

/**
 * The query columns of a row of the range's COPY; the text ones decoded, or as UTF-8 bytes one
 * character per byte (`bytes`). A NULL, which the table forbids, reads as empty text.
 */
function rowColumns(row: CopyTuple, bytes: boolean): EntryColumns {
  return {
    eventId: row.uuid(1) ?? '',
    time: row.timestamp(2) ?? '',
    type: textField(row, 3, bytes),
    orgId: textField(row, 4, bytes),
    actor: textField(row, 5, bytes),
    subject: textField(row, 6, bytes),
  };
}

function textField(row: CopyTuple, field: number, bytes: boolean): string {
  return (bytes ? row.binary(field) : row.text(field)) ?? '';
}

/** Decodes a row of the range's COPY as an entry. This runs for every entry. */
function toEntry(row: CopyTuple): AuditEntry {
  return {
    sequence: row.int8(0) ?? 0,
    ...rowColumns(row, false),
    canonical: row.text(7) ?? '',
    checksum: row.hex(8) ?? '',
    prevHash: row.hex(9) ?? '',
    hash: row.hex(10) ?? '',
  };
}

/**
 * Prepares a row of the range's COPY for the checks straight from its bytes: the canonical text is
 * hashed where it lies and compared with the columns as UTF-8 bytes (one character per byte),
 * never decoded; the hashes are Digests. A NULL reads as empty, which equals no digest.
 */
function toPreparedEntry(row: CopyTuple): PreparedEntry {
  return {
    sequence: row.int8(0) ?? 0,
    canonicalDigest: entryChecksumDigest(row.bytes(7) ?? ''),
    mismatchedColumn: columnMismatch(rowColumns(row, true), row.binary(7) ?? ''),
    checksum: (row.binary(8) ?? '') as Digest,
    prevHash: (row.binary(9) ?? '') as Digest,
    hash: (row.binary(10) ?? '') as Digest,
  };
}
