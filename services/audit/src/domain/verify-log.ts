import type { KeyObject } from 'node:crypto';
import type { AuditEntry } from './audit-entry';
import { checkpointSignatureValid, SignedCheckpoint } from './checkpoint';
import { Digest, digestToHex, GENESIS_DIGEST } from './hash-chain';
import { DigestMerkleFrontier } from './merkle';
import {
  chainBroken,
  checkEntryAlone,
  PreparedEntry,
  prepareEntry,
  ProblemAt,
  RangeCheck,
  sequenceProblem,
  VerifyFailureCode,
} from './range-check';

/**
 * Verification of a whole audit log, entry by entry in sequence order (streaming: memory does
 * not grow with the log): sequence numbers, checksums, the hash chain, query columns against the
 * canonical JSON, and every checkpoint: signature, order, Merkle root and chain head at its size,
 * and that the log reaches it. The result names the first bad sequence and why.
 */

export interface VerifyFailure {
  ok: false;
  /** The first sequence number found bad. */
  sequence: number;
  code: VerifyFailureCode;
  reason: string;
  entriesVerified: number;
}

export interface VerifySuccess {
  ok: true;
  entriesVerified: number;
  checkpointsVerified: number;
  /** The chain head (hex), or undefined for an empty log. */
  headHash?: string;
  rootHash: string;
}

export type VerifyResult = VerifySuccess | VerifyFailure;

export interface ChainVerifierOptions {
  /** Public keys by key id: only these are trusted. */
  publicKeys: ReadonlyMap<string, KeyObject>;
  /** The log's checkpoints, in the order they were issued. */
  checkpoints: readonly SignedCheckpoint[];
  /** Checkpoints learned elsewhere (the event stream, a previous run): the log must still match and reach them. */
  trusted?: readonly SignedCheckpoint[];
}

interface PendingCheckpoint {
  checkpoint: SignedCheckpoint;
  /** A problem found with the checkpoint itself, reported when the log reaches its size. */
  problem?: { code: VerifyFailureCode; reason: string };
}

export class ChainVerifier {
  private readonly frontier = new DigestMerkleFrontier();
  private readonly pending = new Map<number, PendingCheckpoint[]>();
  private readonly sizes: number[];
  private count = 0;
  private prev: Digest = GENESIS_DIGEST;
  private failure?: VerifyFailure;
  private checkpointsVerified = 0;
  private lastCheckpointSize = 0;

  constructor(options: ChainVerifierOptions) {
    let previous: SignedCheckpoint | undefined;
    const add = (checkpoint: SignedCheckpoint, problem?: PendingCheckpoint['problem']) => {
      const list = this.pending.get(checkpoint.treeSize) ?? [];
      list.push({ checkpoint, problem });
      this.pending.set(checkpoint.treeSize, list);
    };
    for (const checkpoint of [...options.checkpoints, ...(options.trusted ?? [])]) {
      const signature = checkpointSignatureValid(checkpoint, options.publicKeys);
      if (signature === 'unknown_key') {
        add(checkpoint, {
          code: 'checkpoint_unknown_key',
          reason: `checkpoint at tree size ${checkpoint.treeSize} is signed by key ${checkpoint.keyId}, which is not trusted`,
        });
      } else if (signature === 'invalid') {
        add(checkpoint, {
          code: 'checkpoint_signature_invalid',
          reason: `checkpoint at tree size ${checkpoint.treeSize} has an invalid signature (forged or altered)`,
        });
      } else add(checkpoint);
    }
    // A checkpoint listed after a newer one is an old checkpoint presented again.
    for (const checkpoint of options.checkpoints) {
      if (
        previous &&
        (checkpoint.treeSize <= previous.treeSize ||
          Date.parse(checkpoint.issuedAt) < Date.parse(previous.issuedAt))
      ) {
        add(checkpoint, {
          code: 'checkpoint_replayed',
          reason: `checkpoint at tree size ${checkpoint.treeSize} (${checkpoint.issuedAt}) comes after the one at tree size ${previous.treeSize} (${previous.issuedAt}): an old checkpoint presented again`,
        });
      }
      previous = checkpoint;
    }
    this.sizes = [...this.pending.keys()].sort((a, b) => a - b);
  }

  get failed(): VerifyFailure | undefined {
    return this.failure;
  }

  /** Checks the next entry; returns false once the log is known bad (later entries are ignored). */
  add(auditEntry: AuditEntry): boolean {
    if (this.failure || !this.inSequence(auditEntry)) return false;
    const entry = prepareEntry(auditEntry);
    const alone = checkEntryAlone(entry);
    if (alone) return this.fail(entry.sequence, alone.code, alone.reason);
    return this.link(entry);
  }

  /**
   * Applies the next range checked elsewhere (RangeChecker, in a worker thread): links it to the
   * entries before it and checks the checkpoints inside it. Ranges must come in order. Same
   * verdict, first bad sequence included, as adding their entries one by one.
   */
  applyRange(range: RangeCheck): boolean {
    if (this.failure) return false;
    const expected = this.count + 1;
    if (range.verified === 0 && !range.problem) return true;
    if (range.first !== expected)
      return this.failWith({
        sequence: expected,
        code: 'sequence_gap',
        reason: `entries from ${expected} are missing before entry ${range.first}`,
      });
    if (range.verified > 0 && range.firstPrevHash !== this.prev)
      return this.failWith(chainBroken(range.first));
    for (const at of range.at) {
      this.count = at.size;
      const root = () => {
        const frontier = this.frontier.copy();
        frontier.appendSubtrees(at.subtrees);
        return frontier.root();
      };
      if (!this.checkCheckpointsAt(at.size, root, at.hash)) return false;
    }
    this.count = expected - 1 + range.verified;
    if (range.problem) return this.failWith(range.problem);
    this.frontier.appendSubtrees(range.subtrees);
    this.prev = range.lastHash!;
    return true;
  }

  private inSequence(entry: { sequence: number }): boolean {
    const problem = sequenceProblem(this.count + 1, entry);
    return problem ? this.failWith(problem) : true;
  }

  /** The checks that need the previous entry: the chain link, the tree, the checkpoints. */
  private link(entry: PreparedEntry): boolean {
    if (this.prev !== entry.prevHash) return this.failWith(chainBroken(entry.sequence));
    this.prev = entry.hash;
    this.frontier.appendEntry(entry.hash);
    this.count = entry.sequence;
    return this.checkCheckpointsAt(entry.sequence, () => this.frontier.root(), this.prev);
  }

  /** Checks the checkpoints at `size`, given the Merkle root (computed only if needed) and chain head there. */
  private checkCheckpointsAt(size: number, rootAt: () => Digest, headDigest: Digest): boolean {
    const list = this.pending.get(size);
    if (!list) return true;
    const root = digestToHex(rootAt());
    const head = digestToHex(headDigest);
    for (const { checkpoint, problem } of list) {
      const first = this.lastCheckpointSize + 1;
      if (problem) return this.fail(size, problem.code, problem.reason);
      if (checkpoint.rootHash !== root || checkpoint.lastEntryHash !== head) {
        return this.fail(
          first,
          'checkpoint_root_mismatch',
          `entries ${first}..${size} do not match the checkpoint signed at ${checkpoint.issuedAt} (rewritten after it was signed)`,
        );
      }
      this.checkpointsVerified++;
    }
    this.lastCheckpointSize = size;
    return true;
  }

  /** Ends verification: checkpoints beyond the last entry mean the log lost its tail. */
  finish(): VerifyResult {
    if (this.failure) return this.failure;
    const beyond = this.sizes.find((size) => size > this.count);
    if (beyond !== undefined) {
      const { checkpoint, problem } = this.pending.get(beyond)![0];
      if (problem) this.fail(beyond, problem.code, problem.reason);
      else
        this.fail(
          this.count + 1,
          'log_truncated',
          `the checkpoint signed at ${checkpoint.issuedAt} covers ${beyond} entries, but the log ends at ${this.count}`,
        );
      return this.failure!;
    }
    return {
      ok: true,
      entriesVerified: this.count,
      checkpointsVerified: this.checkpointsVerified,
      headHash: this.count ? digestToHex(this.prev) : undefined,
      rootHash: digestToHex(this.frontier.root()),
    };
  }

  private fail(sequence: number, code: VerifyFailureCode, reason: string): false {
    this.failure = { ok: false, sequence, code, reason, entriesVerified: this.count };
    return false;
  }

  private failWith(problem: ProblemAt): false {
    return this.fail(problem.sequence, problem.code, problem.reason);
  }
}

/** Verifies entries in sequence order. */
export function verifyLog(entries: Iterable<AuditEntry>, options: ChainVerifierOptions): VerifyResult {
  const verifier = new ChainVerifier(options);
  for (const entry of entries) if (!verifier.add(entry)) break;
  return verifier.finish();
}
