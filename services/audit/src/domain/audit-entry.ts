import type { EventEnvelope } from '@palisade/contracts';
import { canonicalJson } from './canonical-json';
import { linkEntries } from './hash-chain';

/**
 * One audit log entry as the verifier, the export and the API see it. Hashes are lowercase hex.
 * The columns beside `canonical` (event id, time, type, organization, actor, subject) are copies
 * for queries; the verifier checks that they say what the canonical JSON says.
 */
export interface AuditEntry {
  sequence: number;
  eventId: string;
  /** The event's `time`, as an ISO timestamp. */
  time: string;
  type: string;
  orgId: string;
  actor: string;
  subject: string;
  /** RFC 8785 canonical JSON of the whole event envelope. */
  canonical: string;
  checksum: string;
  prevHash: string;
  hash: string;
}

/** The query columns an envelope gives its entry. */
export function entryColumns(envelope: EventEnvelope) {
  return {
    eventId: envelope.id,
    time: envelope.time,
    type: envelope.type,
    orgId: envelope.orgid,
    actor: envelope.actor,
    subject: envelope.subject,
  };
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** The query columns of an entry, which must say what its canonical JSON says. */
export type EntryColumns = Pick<AuditEntry, 'eventId' | 'time' | 'type' | 'orgId' | 'actor' | 'subject'>;

/**
 * Which query column disagrees with the event's canonical JSON, if any. The members are read by
 * their place in the text, not by parsing it (parsing was the largest cost of verification):
 * RFC 8785 sorts members by name, the envelope's first member is `actor`, and every member after
 * `data` (the only one that nests) is a scalar, so the last `,"<name>":` in the text is the
 * top-level member for each name after `data` (a `,"` cannot occur inside a JSON string, where
 * every quote is escaped). That layout holds for every text the appender wrote
 * (test/audit-entry.spec.ts checks it against the envelope schema), and a text it did not write
 * fails the checksum, the chain or a checkpoint's root, or lies after the newest checkpoint, where
 * no check can tell a forgery from the original (docs/audit.md, Limits).
 *
 * Takes JavaScript strings, or UTF-8 bytes one character per byte (a row read in binary), as long
 * as the text and the columns are in the same form: the characters that matter are ASCII.
 */
export function columnMismatch(columns: EntryColumns, canonical: string): string | undefined {
  if (!(canonical.startsWith('{"actor":') && stringAt(canonical, 9, columns.actor))) return 'actor';
  // From the last member back: each search covers only the text between two members.
  const type = canonical.lastIndexOf(',"type":');
  if (type < 0 || !stringAt(canonical, type + 8, columns.type)) return 'type';
  const time = canonical.lastIndexOf(',"time":"', type);
  const timeEnd = time < 0 ? -1 : canonical.indexOf('"', time + 9);
  if (timeEnd < 0 || !sameInstant(canonical.slice(time + 9, timeEnd), columns.time)) return 'time';
  const subject = canonical.lastIndexOf(',"subject":', time);
  if (subject < 0 || !stringAt(canonical, subject + 11, columns.subject)) return 'subject';
  const orgid = canonical.lastIndexOf(',"orgid":', subject);
  if (orgid < 0 || !stringAt(canonical, orgid + 9, columns.orgId)) return 'organization';
  const id = canonical.lastIndexOf(',"id":', orgid);
  if (id < 0 || !stringAt(canonical, id + 6, columns.eventId)) return 'event id';
  return undefined;
}

/**
 * The event's time is the column's: the column is re-rendered from Postgres (UTC, milliseconds),
 * so the same instant in strict ISO 8601 form also counts. Most events carry their time in that
 * very form.
 */
function sameInstant(time: string, column: string): boolean {
  return time === column || (ISO_UTC.test(column) && Date.parse(time) === Date.parse(column));
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The JSON string literal at `at` in `canonical` is `value`. */
function stringAt(canonical: string, at: number, value: string): boolean {
  if (canonical.charCodeAt(at) !== QUOTE) return false;
  // A value with no character JSON escapes (quote, backslash, controls) stands as it is between
  // the quotes; compared in one pass with that test.
  const length = value.length;
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i);
    if (c === QUOTE || c === BACKSLASH || c < 0x20) return canonical.startsWith(JSON.stringify(value), at);
    if (c !== canonical.charCodeAt(at + 1 + i)) return false;
  }
  return canonical.charCodeAt(at + 1 + length) === QUOTE;
}

/** Where the chain stands: the last entry's sequence and hash (0 and the genesis hash when empty). */
export interface ChainHead {
  sequence: number;
  hash: Buffer;
}

/** Entries for `envelopes`, linked onto the chain after `head`, in order. */
export function chainEntries(head: ChainHead, envelopes: readonly EventEnvelope[]): AuditEntry[] {
  const canonicals = envelopes.map((envelope) => canonicalJson(envelope));
  return linkEntries(head.hash, canonicals).map((link, i) => ({
    sequence: head.sequence + i + 1,
    ...entryColumns(envelopes[i]),
    canonical: canonicals[i],
    checksum: link.checksum.toString('hex'),
    prevHash: link.prevHash.toString('hex'),
    hash: link.hash.toString('hex'),
  }));
}
