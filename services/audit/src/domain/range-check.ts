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
 * An entry as the checks take it: an AuditEntry whose three hashes are Digests (32-byte latin1
 * strings) instead of hex. Rows read for verification are decoded to it directly.
 */
export type DigestEntry = Omit<AuditEntry, 'checksum' | 'prevHash' | 'hash'> & {
  checksum: Digest;
  prevHash: Digest;
  hash: Digest;
};

/** An entry with hex hashes (in memory, from an export) in the form the checks take. */
export function digestEntry(entry: AuditEntry): DigestEntry {
  return {
    ...entry,
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
export function checkEntryAlone(entry: DigestEntry): EntryProblem | undefined {
  const checksum = entryChecksumDigest(entry.canonical);
  if (checksum !== entry.checksum)
    return { code: 'checksum_mismatch', reason: 'the canonical JSON does not match its SHA-256 checksum' };
  const hash = chainHashDigest(entry.prevHash, checksum);
  if (hash === undefined) return { code: 'chain_broken', reason: 'prev_hash is not a SHA-256 hash' };
  if (hash !== entry.hash)
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
  add(entry: DigestEntry): boolean {
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
  pages: AsyncIterable<DigestEntry[]> | Iterable<DigestEntry[]>,
): Promise<RangeCheck> {
  const checker = new RangeChecker(first, new Set(checkpointSizes));
  for await (const page of pages) for (const entry of page) if (!checker.add(entry)) return checker.finish();
  return checker.finish();
}
