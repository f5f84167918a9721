import { AuditEntry, columnMismatch } from './audit-entry';
import { chainHashDigest, Digest, digestFromHex, entryChecksumDigest } from './hash-chain';
import { DigestMerkleFrontier } from './merkle';

/**
 * The checks of the audit log that need no checkpoint and no key: each entry on its own, and runs
 * of consecutive entries (a range checked in a worker thread). Light on purpose: a worker thread
 * loads this file, not the whole domain.
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

/**
 * An entry as the checks take it: what its canonical text says already worked out (its SHA-256,
 * and whether its query columns agree with it), and its three hashes as Digests (32-byte latin1
 * strings) instead of hex. Rows read for verification are decoded to it directly, from their bytes.
 */
export interface PreparedEntry {
  sequence: number;
  /** SHA-256 of the canonical text, to compare with `checksum`. */
  canonicalDigest: Digest;
  /** The query column that disagrees with the canonical text (see columnMismatch), if one does. */
  mismatchedColumn: string | undefined;
  checksum: Digest;
  prevHash: Digest;
  hash: Digest;
}

/** An entry with hex hashes (in memory, from an export) in the form the checks take. */
export function prepareEntry(entry: AuditEntry): PreparedEntry {
  return {
    sequence: entry.sequence,
    canonicalDigest: entryChecksumDigest(entry.canonical),
    mismatchedColumn: columnMismatch(entry, entry.canonical),
    checksum: digestFromHex(entry.checksum),
    prevHash: digestFromHex(entry.prevHash),
    hash: digestFromHex(entry.hash),
  };
}

/** What an entry's own checks found wrong, if anything. */
export type EntryProblem = { code: VerifyFailureCode; reason: string };

/**
 * The checks an entry passes on its own, without its neighbours: checksum, hash from its own
 * prev_hash, and query columns against the canonical JSON. Pure; safe to run in worker threads.
 */
export function checkEntryAlone(entry: PreparedEntry): EntryProblem | undefined {
  if (entry.canonicalDigest !== entry.checksum)
    return { code: 'checksum_mismatch', reason: 'the canonical JSON does not match its SHA-256 checksum' };
  const hash = chainHashDigest(entry.prevHash, entry.canonicalDigest);
  if (hash === undefined) return { code: 'chain_broken', reason: 'prev_hash is not a SHA-256 hash' };
  if (hash !== entry.hash)
    return { code: 'hash_mismatch', reason: 'hash is not SHA-256(prev_hash || checksum)' };
  if (entry.mismatchedColumn)
    return {
      code: 'entry_mismatch',
      reason: `the ${entry.mismatchedColumn} column differs from the event's canonical JSON`,
    };
  return undefined;
}

export type ProblemAt = { sequence: number; code: VerifyFailureCode; reason: string };

/** The entry expected next is `expected`: what is wrong if `entry` is not it. */
export function sequenceProblem(expected: number, entry: { sequence: number }): ProblemAt | undefined {
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

export function chainBroken(sequence: number): ProblemAt {
  return { sequence, code: 'chain_broken', reason: `prev_hash is not the hash of entry ${sequence - 1}` };
}

/**
 * What one range of consecutive entries showed when checked without what precedes it (in a worker
 * thread, say): ChainVerifier.applyRange links it to the entries before it and checks the
 * checkpoints that fall inside it. Hashes are Digests; subtrees are the range's own Merkle frontier
 * by level (see DigestMerkleFrontier.subtrees), so a range must start on a multiple of a power of
 * two at least its length.
 */
export interface RangeCheck {
  first: number;
  /** How many entries, from `first` on, passed every check that needs nothing before the range. */
  verified: number;
  /** prev_hash of the first entry: it must be the hash of the entry before the range. */
  firstPrevHash?: Digest;
  /** Hash of the last verified entry. */
  lastHash?: Digest;
  subtrees: (Digest | undefined)[];
  /** The chain head and the subtrees at each checkpoint size inside the range. */
  at: { size: number; hash: Digest; subtrees: (Digest | undefined)[] }[];
  /** The first problem, right after the verified entries. */
  problem?: ProblemAt;
}

/** Checks a range of entries in order (see RangeCheck); stops at the first problem. */
export class RangeChecker {
  private readonly frontier = new DigestMerkleFrontier();
  private readonly check: RangeCheck;
  private prev?: Digest;

  constructor(
    first: number,
    private readonly checkpointSizes: ReadonlySet<number>,
  ) {
    this.check = { first, verified: 0, subtrees: [], at: [] };
  }

  /** Checks the next entry; false once a problem is found. */
  add(entry: PreparedEntry): boolean {
    if (this.check.problem) return false;
    const order = sequenceProblem(this.check.first + this.check.verified, entry);
    if (order) return this.fail(order);
    const alone = checkEntryAlone(entry);
    if (alone) return this.fail({ sequence: entry.sequence, code: alone.code, reason: alone.reason });
    if (this.prev === undefined) this.check.firstPrevHash = entry.prevHash;
    else if (entry.prevHash !== this.prev) return this.fail(chainBroken(entry.sequence));
    this.prev = entry.hash;
    this.frontier.appendEntry(entry.hash);
    this.check.verified++;
    if (this.checkpointSizes.has(entry.sequence))
      this.check.at.push({
        size: entry.sequence,
        hash: entry.hash,
        subtrees: this.frontier.subtrees(),
      });
    return true;
  }

  finish(): RangeCheck {
    return { ...this.check, lastHash: this.prev, subtrees: this.frontier.subtrees() };
  }

  private fail(problem: ProblemAt): false {
    this.check.problem = problem;
    return false;
  }
}

/** Checks the range of entries from `first` on, page by page, up to the first problem. */
export async function checkRange(
  first: number,
  checkpointSizes: readonly number[],
  pages: AsyncIterable<PreparedEntry[]> | Iterable<PreparedEntry[]>,
): Promise<RangeCheck> {
  const checker = new RangeChecker(first, new Set(checkpointSizes));
  for await (const page of pages) for (const entry of page) if (!checker.add(entry)) return checker.finish();
  return checker.finish();
}
