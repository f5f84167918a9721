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

/** Which query column disagrees with the canonical JSON, if any. */
export function columnMismatch(
  entry: Pick<AuditEntry, 'eventId' | 'time' | 'type' | 'orgId' | 'actor' | 'subject'>,
  parsed: Partial<Record<string, unknown>>,
): string | undefined {
  if (parsed.id !== entry.eventId) return 'event id';
  if (parsed.type !== entry.type) return 'type';
  if (parsed.orgid !== entry.orgId) return 'organization';
  if (parsed.actor !== entry.actor) return 'actor';
  if (parsed.subject !== entry.subject) return 'subject';
  // The column is re-rendered from Postgres (UTC, milliseconds): same instant, strict ISO 8601
  // form. Most events carry their time in that very form.
  if (
    parsed.time !== entry.time &&
    (typeof parsed.time !== 'string' ||
      !ISO_UTC.test(entry.time) ||
      Date.parse(parsed.time) !== Date.parse(entry.time))
  )
    return 'time';
  return undefined;
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
