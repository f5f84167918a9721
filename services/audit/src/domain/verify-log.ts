import type { KeyObject } from 'node:crypto';
import { AuditEntry, columnMismatch } from './audit-entry';
import { checkpointSignatureValid, SignedCheckpoint } from './checkpoint';
import { chainHashHex, entryChecksumHex, GENESIS_HASH } from './hash-chain';
import { leafHashOfHex, MerkleFrontier } from './merkle';

/**
 * Verification of a whole audit log, entry by entry in sequence order (streaming: memory does
 * not grow with the log): sequence numbers, checksums, the hash chain, query columns against the
 * canonical JSON, and every checkpoint: signature, order, Merkle root and chain head at its size,
 * and that the log reaches it. The result names the first bad sequence and why.
 */

export type VerifyFailureCode =
  | 'sequence_gap'
  | 'sequence_out_of_order'
  | 'not_json'
  | 'checksum_mismatch'
  | 'chain_broken'
  | 'hash_mismatch'
  | 'entry_mismatch'
  | 'checkpoint_unknown_key'
  | 'checkpoint_signature_invalid'
  | 'checkpoint_replayed'
  | 'checkpoint_root_mismatch'
  | 'log_truncated';

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

/** What an entry's own checks found: its RFC 6962 leaf hash, or the problem. */
export type EntryCheck = { leaf: Buffer } | { code: VerifyFailureCode; reason: string };

/**
 * The checks an entry passes on its own, without its neighbours: checksum, hash from its own
 * prev_hash, and query columns against the canonical JSON. Pure; safe to run in worker threads.
 */
export function checkEntryAlone(entry: AuditEntry): EntryCheck {
  const checksum = entryChecksumHex(entry.canonical);
  if (checksum !== entry.checksum)
    return { code: 'checksum_mismatch', reason: 'the canonical JSON does not match its SHA-256 checksum' };
  if (!HEX32.test(entry.prevHash)) return { code: 'chain_broken', reason: 'prev_hash is not a SHA-256 hash' };
  if (chainHashHex(entry.prevHash, checksum) !== entry.hash)
    return { code: 'hash_mismatch', reason: 'hash is not SHA-256(prev_hash || checksum)' };
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(entry.canonical) as Record<string, unknown>;
  } catch {
    return { code: 'not_json', reason: 'the canonical text is not JSON' };
  }
  const column = columnMismatch(entry, parsed ?? {});
  if (column)
    return { code: 'entry_mismatch', reason: `the ${column} column differs from the event's canonical JSON` };
  return { leaf: leafHashOfHex(entry.hash) };
}

const HEX32 = /^[0-9a-f]{64}$/;

type Problem = { sequence: number; code: VerifyFailureCode; reason: string };

/** The entry expected next is `expected`: what is wrong if `entry` is not it. */
function sequenceProblem(expected: number, entry: AuditEntry): Problem | undefined {
  if (entry.sequence === expected) return undefined;
  return entry.sequence > expected
    ? {
        sequence: expected,
        code: 'sequence_gap',
        reason: `entries ${expected}..${entry.sequence - 1} are missing`,
      }
    : {
        sequence: expected,
        code: 'sequence_out_of_order',
        reason: `entry ${entry.sequence} appears again after entry ${expected - 1}`,
      };
}

function chainBroken(sequence: number): Problem {
  return { sequence, code: 'chain_broken', reason: `prev_hash is not the hash of entry ${sequence - 1}` };
}

/**
 * What one range of consecutive entries showed when checked without what precedes it (in a worker
 * thread, say): ChainVerifier.applyRange links it to the entries before it and checks the
 * checkpoints that fall inside it. Hashes are hex; subtrees are the range's own Merkle frontier by
 * level (see MerkleFrontier.subtrees), so a range must start on a multiple of a power of two at
 * least its length.
 */
export interface RangeCheck {
  first: number;
  /** How many entries, from `first` on, passed every check that needs nothing before the range. */
  verified: number;
  /** prev_hash of the first entry: it must be the hash of the entry before the range. */
  firstPrevHash?: string;
  /** Hash of the last verified entry. */
  lastHash?: string;
  subtrees: (string | undefined)[];
  /** The chain head and the subtrees at each checkpoint size inside the range. */
  at: { size: number; hash: string; subtrees: (string | undefined)[] }[];
  /** The first problem, right after the verified entries. */
  problem?: Problem;
}

/** Checks a range of entries in order (see RangeCheck); stops at the first problem. */
export class RangeChecker {
  private readonly frontier = new MerkleFrontier();
  private readonly check: RangeCheck;
  private prevHex?: string;

  constructor(
    first: number,
    private readonly checkpointSizes: ReadonlySet<number>,
  ) {
    this.check = { first, verified: 0, subtrees: [], at: [] };
  }

  /** Checks the next entry; false once a problem is found. */
  add(entry: AuditEntry): boolean {
    if (this.check.problem) return false;
    const order = sequenceProblem(this.check.first + this.check.verified, entry);
    if (order) return this.fail(order);
    const alone = checkEntryAlone(entry);
    if ('code' in alone)
      return this.fail({ sequence: entry.sequence, code: alone.code, reason: alone.reason });
    if (this.prevHex === undefined) this.check.firstPrevHash = entry.prevHash;
    else if (entry.prevHash !== this.prevHex) return this.fail(chainBroken(entry.sequence));
    this.prevHex = entry.hash;
    this.frontier.appendLeaf(alone.leaf);
    this.check.verified++;
    if (this.checkpointSizes.has(entry.sequence))
      this.check.at.push({
        size: entry.sequence,
        hash: entry.hash,
        subtrees: hexes(this.frontier.subtrees()),
      });
    return true;
  }

  finish(): RangeCheck {
    return { ...this.check, lastHash: this.prevHex, subtrees: hexes(this.frontier.subtrees()) };
  }

  private fail(problem: Problem): false {
    this.check.problem = problem;
    return false;
  }
}

/** Checks the range of entries from `first` on, page by page, up to the first problem. */
export async function checkRange(
  first: number,
  checkpointSizes: readonly number[],
  pages: AsyncIterable<AuditEntry[]> | Iterable<AuditEntry[]>,
): Promise<RangeCheck> {
  const checker = new RangeChecker(first, new Set(checkpointSizes));
  for await (const page of pages) for (const entry of page) if (!checker.add(entry)) return checker.finish();
  return checker.finish();
}

const hexes = (nodes: (Buffer | undefined)[]) => nodes.map((node) => node?.toString('hex'));
const buffers = (nodes: (string | undefined)[]) =>
  nodes.map((node) => (node ? Buffer.from(node, 'hex') : undefined));

export class ChainVerifier {
  private readonly frontier = new MerkleFrontier();
  private readonly pending = new Map<number, PendingCheckpoint[]>();
  private readonly sizes: number[];
  private count = 0;
  private prevHex = GENESIS_HASH.toString('hex');
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
  add(entry: AuditEntry): boolean {
    if (this.failure || !this.inSequence(entry)) return false;
    const alone = checkEntryAlone(entry);
    if ('code' in alone) return this.fail(entry.sequence, alone.code, alone.reason);
    return this.link(entry, alone.leaf);
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
    if (range.verified > 0 && range.firstPrevHash !== this.prevHex)
      return this.failWith(chainBroken(range.first));
    for (const at of range.at) {
      this.count = at.size;
      const root = () => {
        const frontier = this.frontier.copy();
        frontier.appendSubtrees(buffers(at.subtrees));
        return frontier.root().toString('hex');
      };
      if (!this.checkCheckpointsAt(at.size, root, at.hash)) return false;
    }
    this.count = expected - 1 + range.verified;
    if (range.problem) return this.failWith(range.problem);
    this.frontier.appendSubtrees(buffers(range.subtrees));
    this.prevHex = range.lastHash!;
    return true;
  }

  private inSequence(entry: AuditEntry): boolean {
    const problem = sequenceProblem(this.count + 1, entry);
    return problem ? this.failWith(problem) : true;
  }

  /** The checks that need the previous entry: the chain link, the tree, the checkpoints. */
  private link(entry: AuditEntry, leaf: Buffer): boolean {
    if (this.prevHex !== entry.prevHash) return this.failWith(chainBroken(entry.sequence));
    this.prevHex = entry.hash;
    this.frontier.appendLeaf(leaf);
    this.count = entry.sequence;
    return this.checkCheckpointsAt(entry.sequence, () => this.frontier.root().toString('hex'), this.prevHex);
  }

  /** Checks the checkpoints at `size`, given the Merkle root (computed only if needed) and chain head there. */
  private checkCheckpointsAt(size: number, rootAt: () => string, head: string): boolean {
    const list = this.pending.get(size);
    if (!list) return true;
    const root = rootAt();
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
      headHash: this.count ? this.prevHex : undefined,
      rootHash: this.frontier.root().toString('hex'),
    };
  }

  private fail(sequence: number, code: VerifyFailureCode, reason: string): false {
    this.failure = { ok: false, sequence, code, reason, entriesVerified: this.count };
    return false;
  }

  private failWith(problem: Problem): false {
    return this.fail(problem.sequence, problem.code, problem.reason);
  }
}

/** Verifies entries in sequence order. */
export function verifyLog(entries: Iterable<AuditEntry>, options: ChainVerifierOptions): VerifyResult {
  const verifier = new ChainVerifier(options);
  for (const entry of entries) if (!verifier.add(entry)) break;
  return verifier.finish();
}
