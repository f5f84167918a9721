import fc from 'fast-check';
import {
  checkpointLine,
  entryLine,
  headerLine,
  inclusionProof,
  keyRing,
  MerkleFrontier,
  NodeSource,
  verifyExport,
} from '../src/domain';
import { buildLog, ed25519 } from './audit.fixture';

describe('NDJSON export: offline verification of complete and filtered exports', () => {
  const signer = ed25519();
  const keys = keyRing([signer.publicKey]);
  const SIZE = 40;
  const log = buildLog(SIZE, [20, SIZE], signer.privateKey);
  const latest = log.checkpoints[1];

  const nodes: NodeSource = (() => {
    const frontier = new MerkleFrontier();
    const stored = new Map<string, Buffer>();
    for (const e of log.entries)
      for (const n of frontier.append(Buffer.from(e.hash, 'hex')))
        stored.set(`${n.level}:${n.index}`, n.hash);
    return (level, index) => stored.get(`${level}:${index}`)!;
  })();

  const complete = [
    headerLine({ complete: true, exportedAt: '2026-11-25T06:00:00Z' }),
    ...log.checkpoints.map(checkpointLine),
    ...log.entries.map((e) => entryLine(e)),
  ];
  // One organization's entries, each with its proof against the latest checkpoint.
  const filtered = [
    headerLine({ complete: false, exportedAt: '2026-11-25T06:00:00Z', filter: { orgId: 'org-1' } }),
    checkpointLine(latest),
    ...log.entries
      .filter((e) => e.orgId === 'org-1')
      .map((e) =>
        entryLine(e, {
          treeSize: latest.treeSize,
          path: inclusionProof(nodes, e.sequence - 1, latest.treeSize).map((p) => p.toString('hex')),
        }),
      ),
  ];

  it('accepts both untouched exports', async () => {
    expect(await verifyExport(complete, { publicKeys: keys })).toMatchObject({
      ok: true,
      entriesVerified: SIZE,
    });
    expect(await verifyExport(filtered, { publicKeys: keys })).toMatchObject({
      ok: true,
      entriesVerified: filtered.length - 2,
    });
  });

  /** Flips one character inside a signed or hashed field of one line (never the header). */
  const mutation = (lines: string[]) =>
    fc
      .record({
        line: fc.integer({ min: 1, max: lines.length - 1 }),
        at: fc.nat(),
        to: fc.constantFrom('0', '1', 'a', 'Z', ' '),
      })
      .map(({ line, at, to }) => {
        const value = JSON.parse(lines[line]) as Record<string, unknown>;
        const fields = Object.keys(value).filter((k) => k !== 'kind' && k !== 'proof');
        const field = fields[at % fields.length];
        const text = String(value[field]);
        const i = at % text.length;
        const changed = text.slice(0, i) + (text[i] === to ? '2' : to) + text.slice(i + 1);
        value[field] =
          typeof value[field] === 'number' ? Number(changed) || (value[field] as number) + 1 : changed;
        return { line, field, mutated: lines.map((l, n) => (n === line ? JSON.stringify(value) : l)) };
      });

  it('any changed character in an entry or checkpoint of a complete export fails verification (property)', async () => {
    await fc.assert(
      fc.asyncProperty(mutation(complete), async ({ mutated }) => {
        expect((await verifyExport(mutated, { publicKeys: keys })).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('any changed character in a filtered export, proofs included, fails verification (property)', async () => {
    await fc.assert(
      fc.asyncProperty(mutation(filtered), async ({ mutated }) => {
        expect((await verifyExport(mutated, { publicKeys: keys })).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: filtered.length - 1 }), fc.nat(), async (line, at) => {
        const value = JSON.parse(filtered[line]) as { proof: { path: string[] } };
        const path = value.proof.path;
        const i = at % path.length;
        path[i] = path[i].replace(/^./, (c) => (c === 'f' ? 'e' : 'f'));
        const mutated = filtered.map((l, n) => (n === line ? JSON.stringify(value) : l));
        expect((await verifyExport(mutated, { publicKeys: keys })).ok).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('never throws on hostile input: garbage lines, wrong shapes, reordered lines (property)', async () => {
    const hostile = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.constantFrom(
        '{"kind":"entry"}',
        '{"kind":"checkpoint","treeSize":-1}',
        '{"kind":"header"}',
        '[]',
        'null',
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(hostile, { maxLength: 6 }), fc.nat(), async (garbage, at) => {
        for (const base of [complete, filtered]) {
          const lines = [...base];
          lines.splice(at % lines.length, 0, ...garbage);
          const result = await verifyExport(lines, { publicKeys: keys });
          if (garbage.some((g) => g.trim() !== '')) expect(result.ok).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
    expect((await verifyExport([], { publicKeys: keys })).ok).toBe(false);
    const reordered = [complete[0], complete[3], complete[1], ...complete.slice(4)];
    expect((await verifyExport(reordered, { publicKeys: keys })).ok).toBe(false);
  });
});
