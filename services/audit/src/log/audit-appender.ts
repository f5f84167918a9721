import type { KeyObject } from 'node:crypto';
import { AUDIT_STREAMS, checkpointSigned, EventEnvelope, SYSTEM_ORG } from '@palisade/contracts';
import type { Clock } from '@palisade/domain';
import type { AnyDatabase, EventStore } from '@palisade/persistence';
import { sql } from 'kysely';
import { AUDIT_APPENDER_ROLE } from '../../migrations';
import {
  chainEntries,
  MerkleFrontier,
  nodesRead,
  SignedCheckpoint,
  signCheckpoint,
  treeRoot,
} from '../domain';
import {
  insertCheckpoint,
  insertEntries,
  insertNodes,
  loadHead,
  lockChain,
  readNodes,
} from './audit-log.repository';

export interface AppendSettings {
  /** The audit service's event store (checkpoints are published as its events). */
  store: EventStore;
  signingKey: () => Promise<KeyObject>;
  /** Sign a checkpoint when this many entries were appended since the last one. */
  checkpointEvery: number;
  /** The time a checkpoint is issued at. */
  clock: Clock;
}

export interface AppendOutcome {
  /** Sequence of the last entry (the tree size). */
  size: number;
  appended: number;
  checkpoint?: SignedCheckpoint;
}

/** Takes the append role and the chain lock for the rest of the caller's transaction. */
export async function beginAppend(trx: AnyDatabase): Promise<void> {
  await sql`set local role ${sql.raw(AUDIT_APPENDER_ROLE)}`.execute(trx);
  await lockChain(trx);
}

async function loadFrontier(trx: AnyDatabase, size: number): Promise<MerkleFrontier> {
  const addresses = MerkleFrontier.pendingAddresses(size);
  const nodes = await readNodes(trx, addresses);
  return new MerkleFrontier(
    size,
    new Map(addresses.map((a) => [a.level, nodes.get(`${a.level}:${a.index}`)!] as const)),
  );
}

/** `/palisade/<context>` → `<context>`. */
function producerOf(envelope: EventEnvelope): string {
  return envelope.source.slice('/palisade/'.length);
}

/**
 * Appends events to the audit log in the caller's transaction: canonical JSON, checksum and hash
 * chain per entry, the Merkle nodes they complete, and a signed checkpoint every N entries.
 * Appends are serialized by a transaction-wide lock, so the chain has one order.
 */
export async function appendToLog(
  trx: AnyDatabase,
  envelopes: readonly EventEnvelope[],
  settings: AppendSettings,
): Promise<AppendOutcome> {
  await beginAppend(trx);
  const head = await loadHead(trx);
  if (envelopes.length === 0) return { size: head.sequence, appended: 0 };
  const frontier = await loadFrontier(trx, head.sequence);
  const entries = chainEntries(head, envelopes).map((entry, i) => ({
    ...entry,
    producer: producerOf(envelopes[i]),
    producerSequence: envelopes[i].sequence,
  }));
  const nodes = entries.flatMap((entry) => frontier.append(Buffer.from(entry.hash, 'hex')));
  await insertEntries(trx, entries);
  await insertNodes(trx, nodes);
  const last = entries[entries.length - 1];
  const outcome: AppendOutcome = { size: last.sequence, appended: entries.length };
  const { rows } = await sql<{
    size: number | null;
  }>`select max(tree_size) as size from audit_checkpoints`.execute(trx);
  if (last.sequence - (rows[0]?.size ?? 0) >= settings.checkpointEvery) {
    outcome.checkpoint = await signAndPublish(trx, settings, {
      treeSize: last.sequence,
      rootHash: frontier.root(),
      lastEntryHash: Buffer.from(last.hash, 'hex'),
    });
  }
  return outcome;
}

/**
 * Signs a checkpoint of the log as it stands when there are entries since the last one other
 * than checkpoint events (so that an idle log does not checkpoint its own checkpoints forever).
 */
export async function checkpointIfNew(
  trx: AnyDatabase,
  settings: AppendSettings,
): Promise<SignedCheckpoint | undefined> {
  await beginAppend(trx);
  const head = await loadHead(trx);
  const { rows } = await sql<{ fresh: boolean }>`
    select exists (
      select 1 from audit_log
      where sequence > coalesce((select max(tree_size) from audit_checkpoints), 0) and type <> ${checkpointSigned.type}
    ) as fresh`.execute(trx);
  if (!rows[0].fresh) return undefined;
  return signAndPublish(trx, settings, {
    treeSize: head.sequence,
    rootHash: await rootAt(trx, head.sequence),
    lastEntryHash: head.hash,
  });
}

/** MTH of the first `size` entries, from the stored nodes. */
export async function rootAt(db: AnyDatabase, size: number): Promise<Buffer> {
  const nodes = await readNodes(
    db,
    nodesRead((source) => treeRoot(source, size)),
  );
  return treeRoot((level, index) => nodes.get(`${level}:${index}`)!, size);
}

async function signAndPublish(
  trx: AnyDatabase,
  settings: AppendSettings,
  fields: { treeSize: number; rootHash: Buffer; lastEntryHash: Buffer },
): Promise<SignedCheckpoint> {
  const checkpoint = signCheckpoint(await settings.signingKey(), {
    ...fields,
    issuedAt: new Date(settings.clock.now()),
  });
  await insertCheckpoint(trx, checkpoint);
  await settings.store.append(trx, {
    streamId: AUDIT_STREAMS.checkpoints,
    expectedVersion: 'any',
    subject: `checkpoint/${checkpoint.treeSize}`,
    events: [{ type: checkpointSigned.name, data: checkpoint }],
    metadata: { orgId: SYSTEM_ORG, actor: 'service:audit' },
  });
  return checkpoint;
}
