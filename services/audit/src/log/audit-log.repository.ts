import type { AnyDatabase } from '@palisade/persistence';
import { sql } from 'kysely';
import { AuditEntry, GENESIS_HASH, leafHash, NodeAddress, SignedCheckpoint } from '../domain';
import type { ChainHead } from '../domain';
import { rangePages } from './entry-ranges';

export interface CheckpointRow {
  position: number;
  tree_size: number;
  root_hash: Buffer;
  last_entry_hash: Buffer;
  issued_at: Date;
  key_id: string;
  signature: string;
}

/** One transaction-wide lock serializes appends to the one chain (7 stream consumers, replicas). */
const CHAIN_LOCK = 0x61_7564_6974; // "audit"

export async function lockChain(trx: AnyDatabase): Promise<void> {
  await sql`select pg_advisory_xact_lock(${CHAIN_LOCK}::int8)`.execute(trx);
}

export async function loadHead(db: AnyDatabase): Promise<ChainHead> {
  const { rows } = await sql<{ sequence: number; hash: Buffer }>`
    select sequence, hash from audit_log order by sequence desc limit 1`.execute(db);
  return rows[0] ? { sequence: rows[0].sequence, hash: rows[0].hash } : { sequence: 0, hash: GENESIS_HASH };
}

/**
 * Perfect-subtree hashes, keyed `level:index`. Leaves (level 0) are not stored: they are
 * SHA-256(0x00 || entry hash), computed from the log itself; higher levels come from
 * audit_merkle_nodes. With `entrySequence`, also that entry's chain hash under the key `entry`
 * (one round trip for a whole inclusion proof).
 */
export async function readNodes(
  db: AnyDatabase,
  addresses: readonly NodeAddress[],
  entrySequence?: number,
): Promise<Map<string, Buffer>> {
  if (addresses.length === 0 && entrySequence === undefined) return new Map();
  const leaves = addresses.filter((a) => a.level === 0).map((a) => a.index + 1);
  const inner = addresses.filter((a) => a.level > 0);
  const { rows } = await sql<{ level: number; idx: number; hash: Buffer }>`
    select n.level, n.idx, n.hash from audit_merkle_nodes n
    join unnest(${inner.map((a) => a.level)}::int2[], ${inner.map((a) => a.index)}::int8[]) as w(level, idx)
      on n.level = w.level and n.idx = w.idx
    union all
    select 0, sequence - 1, hash from audit_log where sequence = any(${leaves}::int8[])
    union all
    select -1, sequence, hash from audit_log where sequence = ${entrySequence ?? 0}`.execute(db);
  return new Map(
    rows.map((row) =>
      row.level === -1
        ? ['entry', row.hash]
        : [`${row.level}:${row.idx}`, row.level === 0 ? leafHash(row.hash) : row.hash],
    ),
  );
}

export async function insertEntries(
  trx: AnyDatabase,
  entries: readonly (AuditEntry & { producer: string; producerSequence: number })[],
): Promise<void> {
  if (entries.length === 0) return;
  const col = <T>(pick: (e: (typeof entries)[number]) => T) => entries.map(pick);
  const hex = (pick: (e: (typeof entries)[number]) => string) =>
    entries.map((e) => Buffer.from(pick(e), 'hex'));
  await sql`
    insert into audit_log (sequence, event_id, event_time, type, org_id, actor, subject, producer, producer_sequence,
                           canonical, checksum, prev_hash, hash)
    select * from unnest(${col((e) => e.sequence)}::int8[], ${col((e) => e.eventId)}::uuid[], ${col((e) => e.time)}::timestamptz[],
                         ${col((e) => e.type)}::text[], ${col((e) => e.orgId)}::text[], ${col((e) => e.actor)}::text[],
                         ${col((e) => e.subject)}::text[], ${col((e) => e.producer)}::text[], ${col((e) => e.producerSequence)}::int8[],
                         ${col((e) => e.canonical)}::text[], ${hex((e) => e.checksum)}::bytea[], ${hex((e) => e.prevHash)}::bytea[],
                         ${hex((e) => e.hash)}::bytea[])`.execute(trx);
}

export async function insertNodes(
  trx: AnyDatabase,
  all: readonly (NodeAddress & { hash: Buffer })[],
): Promise<void> {
  // Leaves are derived from the entries' hashes (see readNodes); only inner nodes are stored.
  const nodes = all.filter((n) => n.level > 0);
  if (nodes.length === 0) return;
  await sql`
    insert into audit_merkle_nodes (level, idx, hash)
    select * from unnest(${nodes.map((n) => n.level)}::int2[], ${nodes.map((n) => n.index)}::int8[], ${nodes.map((n) => n.hash)}::bytea[])`.execute(
    trx,
  );
}

/**
 * The select list of an AuditEntry: hashes as hex and the time as ISO text, done by Postgres
 * (cheaper than decoding bytea into Buffers and re-encoding them in JavaScript).
 */
export const ENTRY_COLUMNS = sql`
  sequence, event_id::text as "eventId",
  to_char(event_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as time,
  type, org_id as "orgId", actor, subject, canonical,
  encode(checksum, 'hex') as checksum, encode(prev_hash, 'hex') as "prevHash", encode(hash, 'hex') as hash`;

/** Entries after `afterSequence`, in order, at most `limit`. */
export async function readEntries(
  db: AnyDatabase,
  afterSequence: number,
  limit: number,
): Promise<AuditEntry[]> {
  const { rows } = await sql<AuditEntry>`
    select ${ENTRY_COLUMNS} from audit_log where sequence > ${afterSequence} order by sequence limit ${limit}`.execute(
    db,
  );
  return rows;
}

/** Every entry in sequence order, one at a time. */
export async function* streamEntries(db: AnyDatabase): AsyncGenerator<AuditEntry> {
  for await (const page of rangePages(db, 1, Infinity)) yield* page;
}

export function toCheckpoint(row: CheckpointRow): SignedCheckpoint {
  return {
    treeSize: row.tree_size,
    rootHash: row.root_hash.toString('hex'),
    lastEntryHash: row.last_entry_hash.toString('hex'),
    issuedAt: row.issued_at.toISOString(),
    keyId: row.key_id,
    signature: row.signature,
  };
}

/** Checkpoints in the order they were issued (all, or a page of those above a tree size). */
export async function readCheckpoints(
  db: AnyDatabase,
  page: { after: number; limit: number } = { after: 0, limit: 1e9 },
): Promise<SignedCheckpoint[]> {
  const { rows } = await sql<CheckpointRow>`
    select * from audit_checkpoints where tree_size > ${page.after} order by position limit ${page.limit}`.execute(
    db,
  );
  return rows.map(toCheckpoint);
}

export async function latestCheckpoint(db: AnyDatabase): Promise<SignedCheckpoint | undefined> {
  const { rows } =
    await sql<CheckpointRow>`select * from audit_checkpoints order by position desc limit 1`.execute(db);
  return rows[0] ? toCheckpoint(rows[0]) : undefined;
}

export async function checkpointAt(db: AnyDatabase, treeSize: number): Promise<SignedCheckpoint | undefined> {
  const { rows } =
    await sql<CheckpointRow>`select * from audit_checkpoints where tree_size = ${treeSize}`.execute(db);
  return rows[0] ? toCheckpoint(rows[0]) : undefined;
}

export async function insertCheckpoint(trx: AnyDatabase, checkpoint: SignedCheckpoint): Promise<void> {
  await sql`
    insert into audit_checkpoints (tree_size, root_hash, last_entry_hash, issued_at, key_id, signature)
    values (${checkpoint.treeSize}, ${Buffer.from(checkpoint.rootHash, 'hex')}, ${Buffer.from(checkpoint.lastEntryHash, 'hex')},
            ${checkpoint.issuedAt}, ${checkpoint.keyId}, ${checkpoint.signature})`.execute(trx);
}
