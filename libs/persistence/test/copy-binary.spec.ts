import fc from 'fast-check';
import { binaryCopyRows, CopyFormatError, CopyTuple } from '../src/copy-binary';

/** Rows as PostgreSQL's binary COPY format writes them (written here from its documentation). */
function encode(
  rows: readonly (readonly (Uint8Array | null)[])[],
  headerExtension = Buffer.alloc(0),
): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')];
  const header = Buffer.alloc(8);
  header.writeUInt32BE(headerExtension.length, 4);
  parts.push(header, headerExtension);
  for (const row of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(row.length);
    parts.push(count);
    for (const field of row) {
      const length = Buffer.alloc(4);
      length.writeInt32BE(field === null ? -1 : field.length);
      parts.push(length);
      if (field) parts.push(Buffer.from(field));
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

/** The bytes cut at the given offsets (taken modulo their length), as a stream delivers them. */
async function* chunked(bytes: Buffer, cuts: readonly number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (const cut of [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b)) {
    if (cut <= at || cut >= bytes.length) continue;
    yield bytes.subarray(at, cut);
    at = cut;
  }
  yield bytes.subarray(at);
}

/** Each field copied out of the tuple (the view moves on with the next row). */
const copyFields = (tuple: CopyTuple) =>
  Array.from({ length: tuple.fields }, (_, i) =>
    tuple.isNull(i) ? null : Buffer.from(tuple.buffer.subarray(tuple.starts[i], tuple.ends[i])),
  );

async function decodeAll<T>(chunks: AsyncIterable<Buffer>, decode: (tuple: CopyTuple) => T): Promise<T[]> {
  const rows: T[] = [];
  for await (const page of binaryCopyRows(chunks, decode)) rows.push(...page);
  return rows;
}

const rowsArb = fc.array(
  fc.array(fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }), { minLength: 1, maxLength: 12 }),
  { maxLength: 30 },
);

describe('binary COPY decoding', () => {
  it('gives back every row and field, NULLs included, however the stream is cut (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        rowsArb,
        fc.uint8Array({ maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        async (rows, extension, cuts) => {
          const bytes = encode(rows, Buffer.from(extension));
          const decoded = await decodeAll(chunked(bytes, cuts), copyFields);
          expect(decoded).toEqual(rows.map((row) => row.map((f) => (f === null ? null : Buffer.from(f)))));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives each field as bytes and as a byte string, row after row, however the stream is cut (property)', async () => {
    const viewed = (tuple: CopyTuple) =>
      Array.from({ length: tuple.fields }, (_, i) => {
        const view = tuple.bytes(i);
        return [tuple.binary(i), view && Buffer.from(view).toString('latin1')];
      });
    await fc.assert(
      fc.asyncProperty(rowsArb, fc.array(fc.nat(), { maxLength: 40 }), async (rows, cuts) => {
        const bytes = encode(rows);
        const decoded = await decodeAll(chunked(bytes, cuts), viewed);
        const latin1 = (f: Uint8Array | null) => (f === null ? null : Buffer.from(f).toString('latin1'));
        expect(decoded).toEqual(rows.map((row) => row.map((f) => [latin1(f), latin1(f)])));
      }),
      { numRuns: 300 },
    );
  });

  it('gives back rows larger than the chunks that carry them, however the stream is cut (property)', async () => {
    // A row left over from one chunk is completed with a growing part of the next (4 KiB, then
    // twice as much each time): rows of up to 60 KiB take several rounds.
    const bigRows = fc.array(
      fc.array(
        fc.option(
          fc.integer({ min: 0, max: 20_000 }).map((n) => Buffer.alloc(n, n % 251)),
          { nil: null },
        ),
        { minLength: 1, maxLength: 3 },
      ),
      { minLength: 1, maxLength: 6 },
    );
    await fc.assert(
      fc.asyncProperty(bigRows, fc.array(fc.nat(), { maxLength: 12 }), async (rows, cuts) => {
        const bytes = encode(rows);
        const decoded = await decodeAll(chunked(bytes, cuts), copyFields);
        // Compared as base64: jest compares Buffers byte by byte, slowly.
        const text = (fields: (Uint8Array | null)[][]) =>
          fields.map((row) => row.map((f) => f && Buffer.from(f).toString('base64')));
        expect(text(decoded)).toEqual(text(rows));
      }),
      { numRuns: 60 },
    );
  });

  it('reads every byte boundary of a row of typed fields the same way (cut at each position)', async () => {
    const int8 = (n: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(n);
      return b;
    };
    const uuid = Buffer.from('0192f0c4a1b27c3d8e4f5a6b7c8d9e0f', 'hex');
    // 2026-11-30T11:44:00.123456Z in microseconds since 2000-01-01, and a time before 2000.
    const micros = (iso: string, extra: bigint) =>
      BigInt(Date.parse(iso) - Date.UTC(2000, 0, 1)) * 1000n + extra;
    const row = [
      int8(2n ** 40n + 7n),
      uuid,
      int8(micros('2026-11-30T11:44:00.123Z', 456n)),
      int8(micros('1999-12-31T23:59:59.999Z', 999n)),
      Buffer.from('organisation ünïcødé ✓', 'utf8'),
      null,
      Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      // Past 2^53 microseconds: exact all the same.
      int8(micros('9999-12-31T23:59:59.999Z', 999n)),
    ];
    const bytes = encode([row, row]);
    const decode = (t: CopyTuple) => [
      t.int8(0),
      t.uuid(1),
      t.timestamp(2),
      t.timestamp(3),
      t.text(4),
      t.text(5),
      t.hex(6),
      t.timestamp(7),
      t.binary(6),
      t.binary(5),
    ];
    const expected = [
      2 ** 40 + 7,
      '0192f0c4-a1b2-7c3d-8e4f-5a6b7c8d9e0f',
      '2026-11-30T11:44:00.123Z',
      '1999-12-31T23:59:59.999Z',
      'organisation ünïcødé ✓',
      null,
      'deadbeef',
      '9999-12-31T23:59:59.999Z',
      '\xde\xad\xbe\xef',
      null,
    ];
    for (let cut = 1; cut < bytes.length; cut++)
      expect(await decodeAll(chunked(bytes, [cut]), decode)).toEqual([expected, expected]);
  });

  it('renders timestamps outside years 0 to 9999 (and infinity) as null', async () => {
    const int8 = (n: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(n);
      return b;
    };
    const decode = (t: CopyTuple) => t.timestamp(0);
    const infinity = 2n ** 63n - 1n;
    const year10000 = BigInt(Date.parse('+010000-01-01T00:00:00.000Z') - Date.UTC(2000, 0, 1)) * 1000n;
    expect(
      await decodeAll(
        chunked(encode([[int8(infinity)], [int8(-infinity - 1n)], [int8(year10000)]]), []),
        decode,
      ),
    ).toEqual([null, null, null]);
  });

  it('rejects malformed output with CopyFormatError, never a wrong row', async () => {
    const good = encode([[Buffer.from('a'), null]]);
    const cases: [string, Buffer][] = [
      ['no signature', Buffer.concat([Buffer.from('PGCOPX\n\xff\r\n\0', 'latin1'), good.subarray(11)])],
      ['data after the trailer', Buffer.concat([good, Buffer.from([0])])],
      ['a field of length -2', Buffer.concat([good.subarray(0, 21), Buffer.from([0xff, 0xff, 0xff, 0xfe])])],
      ['a row of 65 fields', encode([Array.from({ length: 65 }, () => null)])],
      ['a row of -2 fields', Buffer.concat([good.subarray(0, 19), Buffer.from([0xff, 0xfe])])],
    ];
    for (const [, bytes] of cases)
      await expect(decodeAll(chunked(bytes, []), copyFields)).rejects.toBeInstanceOf(CopyFormatError);
    // Cut short anywhere: an error, not a shorter result.
    for (let end = 0; end < good.length; end++)
      await expect(decodeAll(chunked(good.subarray(0, end), []), copyFields)).rejects.toThrow(
        /ends in the middle|no signature/,
      );
    // A field of the wrong width for its type.
    await expect(decodeAll(chunked(encode([[Buffer.from('abc')]]), []), (t) => t.int8(0))).rejects.toThrow(
      /not an int8/,
    );
    await expect(decodeAll(chunked(encode([[Buffer.from('abc')]]), []), (t) => t.uuid(0))).rejects.toThrow(
      /not a uuid/,
    );
  });
});
