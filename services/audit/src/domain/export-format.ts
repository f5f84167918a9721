import type { KeyObject } from 'node:crypto';
import { checkpointSignedData } from '@palisade/contracts';
import { z } from 'zod';
import type { AuditEntry } from './audit-entry';
import { checkpointSignatureValid, SignedCheckpoint } from './checkpoint';
import { leafHash, verifyInclusion } from './merkle';
import { checkEntryAlone, prepareEntry } from './range-check';
import { ChainVerifier, VerifyFailure, VerifyResult } from './verify-log';

/**
 * The NDJSON export of the audit log, verifiable offline with only the public key:
 *
 *   {"kind":"header","format":"palisade-audit-export/v1","complete":true,...}
 *   {"kind":"checkpoint",...}   every checkpoint, in the order issued
 *   {"kind":"entry",...}        entries in sequence order
 *
 * A complete export holds the whole log: the chain is verified end to end. A filtered export
 * (one organization, a time range) holds some entries, each with an RFC 6962 inclusion proof
 * against a checkpoint in the file: each entry is verified on its own.
 */

export const EXPORT_FORMAT = 'palisade-audit-export/v1';

const HEX32 = /^[0-9a-f]{64}$/;

export const exportHeaderSchema = z.object({
  kind: z.literal('header'),
  format: z.literal(EXPORT_FORMAT),
  complete: z.boolean(),
  exportedAt: z.string(),
  filter: z.record(z.string(), z.string()).optional(),
});
export type ExportHeader = z.infer<typeof exportHeaderSchema>;

export const exportEntrySchema = z.object({
  kind: z.literal('entry'),
  sequence: z.int().min(1),
  eventId: z.string(),
  time: z.string(),
  type: z.string(),
  orgId: z.string(),
  actor: z.string(),
  subject: z.string(),
  canonical: z.string(),
  checksum: z.string().regex(HEX32),
  prevHash: z.string().regex(HEX32),
  hash: z.string().regex(HEX32),
  proof: z.object({ treeSize: z.int().min(1), path: z.array(z.string().regex(HEX32)).max(64) }).optional(),
});
export type ExportEntry = z.infer<typeof exportEntrySchema>;

export const exportCheckpointSchema = checkpointSignedData.extend({ kind: z.literal('checkpoint') });

export function headerLine(header: Omit<ExportHeader, 'kind' | 'format'>): string {
  return JSON.stringify({ kind: 'header', format: EXPORT_FORMAT, ...header });
}

export function checkpointLine(checkpoint: SignedCheckpoint): string {
  return JSON.stringify({ kind: 'checkpoint', ...checkpoint });
}

export function entryLine(entry: AuditEntry, proof?: ExportEntry['proof']): string {
  return JSON.stringify({ kind: 'entry', ...entry, ...(proof ? { proof } : {}) });
}

function bad(line: number, reason: string, sequence = 0): VerifyFailure {
  return { ok: false, sequence, code: 'not_json', reason: `line ${line}: ${reason}`, entriesVerified: 0 };
}

/**
 * Verifies an export read line by line. The public keys are the only trust: nothing in the
 * file says which key to believe.
 */
export async function verifyExport(
  lines: AsyncIterable<string> | Iterable<string>,
  options: { publicKeys: ReadonlyMap<string, KeyObject>; trusted?: readonly SignedCheckpoint[] },
): Promise<VerifyResult> {
  let header: ExportHeader | undefined;
  const checkpoints: SignedCheckpoint[] = [];
  let chain: ChainVerifier | undefined;
  let partial: PartialVerifier | undefined;
  let number = 0;
  for await (const text of lines) {
    number++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return bad(number, 'not JSON');
    }
    const kind = (value as { kind?: unknown })?.kind;
    if (!header) {
      const parsed = exportHeaderSchema.safeParse(value);
      if (!parsed.success) return bad(number, `the first line must be a ${EXPORT_FORMAT} header`);
      header = parsed.data;
      continue;
    }
    if (kind === 'checkpoint') {
      if (chain || partial) return bad(number, 'checkpoints must come before the entries');
      const parsed = exportCheckpointSchema.safeParse(value);
      if (!parsed.success) return bad(number, 'malformed checkpoint');
      const { kind: _kind, ...checkpoint } = parsed.data;
      checkpoints.push(checkpoint);
      continue;
    }
    if (kind !== 'entry') return bad(number, `unknown line kind`);
    const parsed = exportEntrySchema.safeParse(value);
    if (!parsed.success)
      return bad(number, 'malformed entry', (value as { sequence?: number }).sequence ?? 0);
    const { kind: _kind, proof, ...entry } = parsed.data;
    if (header.complete) {
      chain ??= new ChainVerifier({ publicKeys: options.publicKeys, checkpoints, trusted: options.trusted });
      if (!chain.add(entry)) return chain.failed!;
    } else {
      partial ??= new PartialVerifier(checkpoints, options.publicKeys);
      const failure = partial.add(entry, proof);
      if (failure) return failure;
    }
  }
  if (!header) return bad(number, 'empty file');
  if (header.complete) {
    chain ??= new ChainVerifier({ publicKeys: options.publicKeys, checkpoints, trusted: options.trusted });
    return chain.finish();
  }
  partial ??= new PartialVerifier(checkpoints, options.publicKeys);
  return partial.finish();
}

/** Entries of a filtered export, each checked alone against a signed Merkle root. */
class PartialVerifier {
  private readonly bySize = new Map<number, SignedCheckpoint>();
  private readonly invalid = new Map<number, string>();
  private count = 0;
  private last = 0;

  constructor(checkpoints: readonly SignedCheckpoint[], keys: ReadonlyMap<string, KeyObject>) {
    for (const checkpoint of checkpoints) {
      const validity = checkpointSignatureValid(checkpoint, keys);
      if (validity === 'valid') this.bySize.set(checkpoint.treeSize, checkpoint);
      else this.invalid.set(checkpoint.treeSize, validity);
    }
  }

  add(entry: AuditEntry, proof: ExportEntry['proof']): VerifyFailure | undefined {
    const fail = (code: VerifyFailure['code'], reason: string): VerifyFailure => ({
      ok: false,
      sequence: entry.sequence,
      code,
      reason,
      entriesVerified: this.count,
    });
    if (entry.sequence <= this.last)
      return fail('sequence_out_of_order', 'entries must be in sequence order');
    const alone = checkEntryAlone(prepareEntry(entry));
    if (alone) return fail(alone.code, alone.reason);
    if (!proof)
      return fail('checkpoint_root_mismatch', 'a filtered export needs an inclusion proof per entry');
    const checkpoint = this.bySize.get(proof.treeSize);
    if (!checkpoint) {
      const why = this.invalid.get(proof.treeSize);
      return fail(
        why === 'unknown_key' ? 'checkpoint_unknown_key' : 'checkpoint_signature_invalid',
        why
          ? `the checkpoint at tree size ${proof.treeSize} is not signed by a trusted key`
          : `no checkpoint at tree size ${proof.treeSize} in the file`,
      );
    }
    const included = verifyInclusion(
      leafHash(Buffer.from(entry.hash, 'hex')),
      entry.sequence - 1,
      proof.treeSize,
      proof.path.map((p) => Buffer.from(p, 'hex')),
      Buffer.from(checkpoint.rootHash, 'hex'),
    );
    if (!included)
      return fail(
        'checkpoint_root_mismatch',
        `the inclusion proof does not lead to the signed root of ${proof.treeSize} entries`,
      );
    this.count++;
    this.last = entry.sequence;
    return undefined;
  }

  finish(): VerifyResult {
    const latest = [...this.bySize.values()].pop();
    return {
      ok: true,
      entriesVerified: this.count,
      checkpointsVerified: this.bySize.size,
      headHash: undefined,
      rootHash: latest?.rootHash ?? '',
    };
  }
}
