import { testDatabase } from '@palisade/testing';
import fc from 'fast-check';
import { sql } from 'kysely';
import { binaryCopyRows, copyOut, createPool } from '../src/copy';
import { createDatabase, ServiceDatabase } from '../src/database';

/** Bulk reads with binary COPY against a real Postgres. */
describe('copyOut and binary COPY rows', () => {
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let db: ServiceDatabase;
  beforeAll(async () => {
    database = await testDatabase();
    db = createDatabase({ url: database.url, schema: 'copy_test', poolSize: 1 });
    await sql`create schema copy_test`.execute(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it("renders timestamptz exactly as Postgres's to_char does to milliseconds, in any order (property)", async () => {
    await sql`create table stamps (n int primary key, at timestamptz not null)`.execute(db);
    // Microseconds from 2000-01-01, years 1 to 9999 (Postgres accepts them all; JavaScript too).
    const micros = fc.bigInt({ min: -63_082_281_600_000_000n, max: 252_455_615_999_999_999n });
    const near = fc.bigInt({ min: 848_000_000_000_000n, max: 848_000_009_999_999n }); // ten seconds in 2026
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(micros, near), { minLength: 1, maxLength: 60 }), async (values) => {
        await sql`truncate stamps`.execute(db);
        await sql`insert into stamps select n, timestamptz '2000-01-01 00:00:00Z' + (m || ' microseconds')::interval
                  from unnest(${values.map((_, i) => i)}::int[], ${values.map(String)}::text[]) as v(n, m)`.execute(
          db,
        );
        const rows: [string | null, string | null][] = [];
        const statement = `copy (select at, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                           from stamps order by n) to stdout (format binary)`;
        for await (const page of binaryCopyRows(
          copyOut(db, statement),
          (t) => [t.timestamp(0), t.text(1)] as const,
        ))
          rows.push(
            ...page.map(([decoded, rendered]) => [decoded, rendered] as [string | null, string | null]),
          );
        expect(rows.map(([decoded]) => decoded)).toEqual(rows.map(([, rendered]) => rendered));
        expect(rows).toHaveLength(values.length);
      }),
      { numRuns: 40 },
    );
  });

  it('a reader that stops in the middle leaves the pool usable (its connection is closed, not reused)', async () => {
    const statement =
      'copy (select g::int8, md5(g::text) from generate_series(1, 500000) g) to stdout (format binary)';
    let pages = 0;
    for await (const page of binaryCopyRows(copyOut(db, statement), (t) => t.int8(0))) {
      expect(page[0]).toBeGreaterThan(0);
      if (++pages === 2) break;
    }
    // One connection in the pool: a connection still in COPY would fail or hang this query.
    const { rows } = await sql<{ answer: number }>`select 42 as answer`.execute(db);
    expect(rows).toEqual([{ answer: 42 }]);
  });

  it('reads from a bare pool (what a worker thread uses), and refuses what has no pool', async () => {
    const pool = createPool({ url: database.url, schema: 'copy_test', poolSize: 1 });
    try {
      let total = 0;
      for await (const page of binaryCopyRows(
        copyOut(pool, 'copy (select g::int8 from generate_series(1, 1000) g) to stdout (format binary)'),
        (t) => t.int8(0)!,
      ))
        total += page.reduce((a, b) => a + b, 0);
      expect(total).toBe(500_500);
    } finally {
      await pool.end();
    }
    await db.transaction().execute(async (trx) => {
      await expect(copyOut(trx, 'copy (select 1) to stdout').next()).rejects.toThrow(/needs a pg pool/);
    });
  });

  it('holds settings for its statement only: set before the COPY, reset after', async () => {
    const statement = `copy (select current_setting('enable_sort'), current_setting('work_mem')) to stdout (format binary)`;
    const read = async (settings?: Record<string, string>) => {
      const rows: (string | null)[][] = [];
      for await (const page of binaryCopyRows(copyOut(db, statement, settings), (t) => [
        t.text(0),
        t.text(1),
      ]))
        rows.push(...page);
      return rows;
    };
    const defaults = await read();
    expect(defaults[0][1]).not.toBe('1234kB');
    expect(await read({ enable_sort: 'off', work_mem: '1234kB' })).toEqual([['off', '1234kB']]);
    // One connection in the pool: the same one, back to its defaults.
    expect(await read()).toEqual(defaults);
    const { rows } = await sql<{ sort: string }>`select current_setting('enable_sort') as sort`.execute(db);
    expect(rows).toEqual([{ sort: 'on' }]);
    await expect(copyOut(db, statement, { no_such_setting: 'x' }).next()).rejects.toThrow(/no_such_setting/);
  });

  it('passes on an error of the statement', async () => {
    await expect(
      copyOut(db, 'copy (select * from no_such_table) to stdout (format binary)').next(),
    ).rejects.toThrow(/no_such_table/);
    const { rows } = await sql<{ answer: number }>`select 1 as answer`.execute(db);
    expect(rows).toEqual([{ answer: 1 }]);
  });
});
