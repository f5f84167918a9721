import fc from 'fast-check';
import {
  AuditEntry,
  chainEntries,
  chainHash,
  entryChecksum,
  GENESIS_HASH,
  keyRing,
  SignedCheckpoint,
  signCheckpoint,
  verifyLog,
  VerifyResult,
} from '../src/domain';
import { verifyRanges } from '../src/parallel-verify';
import { buildLog, ed25519 } from './audit.fixture';

/**
 * The tamper suite: every way of altering a log that the issue lists, at random positions; the
 * verifier must catch each one every time and name the first bad sequence.
 */
describe('tamper-evident audit log: verification catches every alteration', () => {
  const signer = ed25519();
  const keys = keyRing([signer.publicKey]);
  const SIZE = 60;
  // Checkpoints every 16 entries and at the end (the service signs every N entries or T seconds).
  const log = buildLog(SIZE, [16, 32, 48, SIZE], signer.privateKey);
  /** The serial verdict, after checking that range-wise verification (any range size) agrees. */
  const verify = async (
    entries: AuditEntry[],
    checkpoints: SignedCheckpoint[] = log.checkpoints,
    trusted?: SignedCheckpoint[],
  ) => {
    const serial = verifyLog(entries, { publicKeys: keys, checkpoints, trusted });
    for (const rangeSize of [1, 4, 16, 64]) {
      const ranged = await verifyRanges(
        { entries },
        { publicKeys: keys, checkpoints, trusted, threads: 1, rangeSize },
      );
      expect({ rangeSize, ranged }).toEqual({ rangeSize, ranged: serial });
    }
    return serial;
  };
  const copy = () => log.entries.map((e) => ({ ...e }));
  const position = fc.integer({ min: 1, max: SIZE });
  const failure = (result: VerifyResult) =>
    result.ok ? undefined : { sequence: result.sequence, code: result.code };

  /** Recomputes checksums and hashes from `from` on, as an attacker who knows the scheme would. */
  function relink(entries: AuditEntry[], from = 1): AuditEntry[] {
    let prev = from === 1 ? GENESIS_HASH : Buffer.from(entries[from - 2].hash, 'hex');
    for (const entry of entries.slice(from - 1)) {
      const checksum = entryChecksum(entry.canonical);
      entry.checksum = checksum.toString('hex');
      entry.prevHash = prev.toString('hex');
      prev = chainHash(prev, checksum);
      entry.hash = prev.toString('hex');
    }
    return entries;
  }

  it('accepts the untouched log with all its checkpoints', async () => {
    const result = await verify(copy());
    expect(result).toMatchObject({ ok: true, entriesVerified: SIZE, checkpointsVerified: 4 });
  });

  it('changing one byte of any entry is caught at that entry', async () => {
    await fc.assert(
      fc.asyncProperty(position, fc.nat(), fc.integer({ min: 1, max: 255 }), async (sequence, at, flip) => {
        const entries = copy();
        const entry = entries[sequence - 1];
        const bytes = Buffer.from(entry.canonical, 'utf8');
        const i = at % bytes.length;
        bytes[i] ^= flip;
        const changed = bytes.toString('utf8');
        fc.pre(changed !== entry.canonical);
        entry.canonical = changed;
        expect(failure(await verify(entries))).toEqual({ sequence, code: 'checksum_mismatch' });
      }),
      { numRuns: 150 },
    );
  });

  it('changing a byte and re-linking the whole chain after it is caught by the checkpoints', async () => {
    await fc.assert(
      fc.asyncProperty(position, async (sequence) => {
        const entries = copy();
        entries[sequence - 1].canonical = entries[sequence - 1].canonical.replace('"org-', '"orx-');
        entries[sequence - 1].orgId = entries[sequence - 1].orgId.replace('org-', 'orx-');
        relink(entries, sequence);
        const result = failure(await verify(entries));
        expect(result?.code).toBe('checkpoint_root_mismatch');
        // The first bad sequence lies in the span the first failing checkpoint covers.
        const span = [0, 16, 32, 48, SIZE].find((size, i, all) => sequence > size && sequence <= all[i + 1])!;
        expect(result?.sequence).toBe(span + 1);
      }),
      { numRuns: 60 },
    );
  });

  it('changing a query column (organization, actor, type) without the JSON is caught at that entry', async () => {
    await fc.assert(
      fc.asyncProperty(
        position,
        fc.constantFrom('orgId', 'actor', 'type', 'subject', 'eventId') as fc.Arbitrary<keyof AuditEntry>,
        async (sequence, column) => {
          const entries = copy();
          (entries[sequence - 1] as unknown as Record<string, string>)[column] += 'x';
          expect(failure(await verify(entries))).toEqual({ sequence, code: 'entry_mismatch' });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a hash column that is not 64 lowercase hex digits is caught at that entry, even holding the right bytes', async () => {
    const spoilers: Record<string, (hex: string) => string> = {
      uppercase: (hex) => hex.toUpperCase(),
      short: (hex) => hex.slice(0, 62),
      long: (hex) => hex + '00',
      'not hex': (hex) => 'zz' + hex.slice(2),
      empty: () => '',
    };
    const codes = { checksum: 'checksum_mismatch', prevHash: 'chain_broken', hash: 'hash_mismatch' } as const;
    await fc.assert(
      fc.asyncProperty(
        position,
        fc.constantFrom('checksum', 'prevHash', 'hash') as fc.Arbitrary<keyof typeof codes>,
        fc.constantFrom(...Object.keys(spoilers)),
        async (sequence, column, spoiler) => {
          const entries = copy();
          const entry = entries[sequence - 1];
          const spoiled = spoilers[spoiler](entry[column]);
          // Upper case on a hash without letters changes nothing.
          fc.pre(spoiled !== entry[column]);
          entry[column] = spoiled;
          expect(failure(await verify(entries))).toEqual({ sequence, code: codes[column] });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('deleting any row is caught at the missing sequence (or as a truncated log at the end)', async () => {
    await fc.assert(
      fc.asyncProperty(position, async (sequence) => {
        const entries = copy().filter((e) => e.sequence !== sequence);
        expect(failure(await verify(entries))).toEqual({
          sequence,
          code: sequence === SIZE ? 'log_truncated' : 'sequence_gap',
        });
      }),
      { numRuns: 60 },
    );
  });

  it('deleting a row, renumbering and re-linking the rest is caught by the checkpoints', async () => {
    await fc.assert(
      fc.asyncProperty(position, async (sequence) => {
        const entries = copy().filter((e) => e.sequence !== sequence);
        entries.forEach((e, i) => (e.sequence = i + 1));
        relink(entries, sequence);
        const result = failure(await verify(entries));
        // Either a checkpoint over the deletion no longer matches, or the last one is now beyond the
        // log's end; either way the report points past the last checkpoint that still holds.
        expect(['checkpoint_root_mismatch', 'log_truncated']).toContain(result?.code);
        const lastGood = [0, 16, 32, 48].filter((size) => size < sequence).pop()!;
        expect(result!.sequence).toBeGreaterThan(lastGood);
        if (result?.code === 'checkpoint_root_mismatch')
          expect(result.sequence).toBeLessThanOrEqual(sequence);
      }),
      { numRuns: 60 },
    );
  });

  it('swapping any two rows is caught at the first of them', async () => {
    await fc.assert(
      fc.asyncProperty(position, position, async (a, b) => {
        fc.pre(a !== b);
        const entries = copy();
        const first = Math.min(a, b);
        // Swap contents, keeping each row's sequence number (what a swapped storage order looks like).
        const ea = { ...entries[a - 1] };
        entries[a - 1] = { ...entries[b - 1], sequence: a };
        entries[b - 1] = { ...ea, sequence: b };
        expect(failure(await verify(entries))).toEqual({ sequence: first, code: 'chain_broken' });
        // Swapping rows in the order they are read is caught too.
        const reordered = copy();
        [reordered[a - 1], reordered[b - 1]] = [reordered[b - 1], reordered[a - 1]];
        const result = failure(await verify(reordered));
        expect(result?.sequence).toBe(first);
      }),
      { numRuns: 100 },
    );
  });

  it('truncating the tail is caught by a checkpoint that covers it, or by a trusted one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: SIZE - 1 }), async (keep) => {
        const entries = copy().slice(0, keep);
        expect(failure(await verify(entries))).toEqual({ sequence: keep + 1, code: 'log_truncated' });
        // An attacker who also drops the checkpoints after the cut is caught by a checkpoint held elsewhere.
        const kept = log.checkpoints.filter((c) => c.treeSize <= keep);
        expect(failure(await verify(entries, kept, [log.checkpoints[3]]))).toEqual({
          sequence: keep + 1,
          code: 'log_truncated',
        });
      }),
      { numRuns: 60 },
    );
  });

  it('a forged checkpoint is refused: altered fields, a signature by another key, garbage', async () => {
    const other = ed25519();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom('root', 'size', 'time', 'key', 'bytes'),
        async (which, how) => {
          const original = log.checkpoints[which];
          let forged: SignedCheckpoint;
          if (how === 'root')
            forged = {
              ...original,
              rootHash: original.rootHash.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')),
            };
          else if (how === 'size') forged = { ...original, treeSize: original.treeSize - 1 };
          else if (how === 'time')
            forged = { ...original, issuedAt: new Date(Date.parse(original.issuedAt) + 1).toISOString() };
          else if (how === 'key') {
            const f = log.entries[original.treeSize - 1];
            forged = signCheckpoint(other.privateKey, {
              treeSize: original.treeSize,
              rootHash: Buffer.from(original.rootHash, 'hex'),
              lastEntryHash: Buffer.from(f.hash, 'hex'),
              issuedAt: new Date(original.issuedAt),
            });
          } else forged = { ...original, signature: Buffer.alloc(64, 7).toString('base64url') };
          const checkpoints = log.checkpoints.map((c) => (c === original ? forged : c));
          const result = failure(await verify(copy(), checkpoints));
          expect(result?.code).toBe(
            how === 'key' ? 'checkpoint_unknown_key' : 'checkpoint_signature_invalid',
          );
          expect(result?.sequence).toBe(forged.treeSize);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a checkpoint signed by the right key over a rewritten log does not match the log it came with', async () => {
    // The attacker cannot sign; this is the same log with a different history: the roots differ.
    const other = buildLog(SIZE, [SIZE], signer.privateKey);
    const result = failure(await verify(copy(), [...log.checkpoints.slice(0, 3), other.checkpoints[0]]));
    expect(result?.code).toBe('checkpoint_root_mismatch');
  });

  it('replaying an old checkpoint as the newest is caught', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 }), async (which) => {
        const replayed = [...log.checkpoints, log.checkpoints[which]];
        expect(failure(await verify(copy(), replayed))).toEqual({
          sequence: log.checkpoints[which].treeSize,
          code: 'checkpoint_replayed',
        });
      }),
    );
  });

  it('entries chained by the service verify whatever their content (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 20 }), async (payloads) => {
        const envelopes = payloads.map((data, i) => ({
          ...log.entries[0],
          ...JSON.parse(log.entries[i % SIZE].canonical),
          data,
        }));
        const entries = chainEntries({ sequence: 0, hash: GENESIS_HASH }, envelopes);
        expect(verifyLog(entries, { publicKeys: keys, checkpoints: [] }).ok).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});

describe('verification in worker threads reaches the same verdict as the serial one', () => {
  const signer = ed25519();
  const keys = keyRing([signer.publicKey]);
  const log = buildLog(300, [100, 200, 300], signer.privateKey);

  it('on the untouched log and on each kind of alteration', async () => {
    const copy = () => log.entries.map((e) => ({ ...e }));
    const changedByte = copy();
    changedByte[150].canonical = changedByte[150].canonical.replace('"org-', '"orG-');
    const swapped = copy();
    [swapped[40], swapped[41]] = [
      { ...swapped[41], sequence: 41 },
      { ...swapped[40], sequence: 42 },
    ];
    const column = copy();
    column[250].actor = 'user:someone-else';
    const cases: [string, AuditEntry[], SignedCheckpoint[]][] = [
      ['untouched', copy(), log.checkpoints],
      ['changed byte', changedByte, log.checkpoints],
      ['swapped rows', swapped, log.checkpoints],
      ['changed column', column, log.checkpoints],
      ['deleted row', copy().filter((e) => e.sequence !== 77), log.checkpoints],
      ['truncated tail', copy().slice(0, 290), log.checkpoints],
      ['replayed checkpoint', copy(), [...log.checkpoints, log.checkpoints[0]]],
    ];
    for (const [name, entries, checkpoints] of cases) {
      const serial = verifyLog(entries, { publicKeys: keys, checkpoints });
      const threaded = await verifyRanges(
        { entries },
        { publicKeys: keys, checkpoints, threads: 3, rangeSize: 32 },
      );
      expect({ name, threaded }).toEqual({ name, threaded: serial });
    }
    expect(verifyLog(copy(), { publicKeys: keys, checkpoints: log.checkpoints })).toMatchObject({
      ok: true,
      entriesVerified: 300,
      checkpointsVerified: 3,
    });
  }, 60_000);
});
