import { testDatabase } from '@palisade/testing';
import { sql } from 'kysely';
import { createDatabase, PREPARED } from '../src/database';

/** Statements marked PREPARED run as named prepared statements; the rest as before. */
describe('PREPARED statements', () => {
  let database: Awaited<ReturnType<typeof testDatabase>>;
  beforeAll(async () => {
    database = await testDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('are parsed once per connection, give the same results, and leave unmarked statements alone', async () => {
    // One connection, so the session that prepared is the session asked.
    const db = createDatabase({ url: database.url, schema: 'prepared_test', poolSize: 1 });
    try {
      const marked = (n: number) =>
        sql<{ twice: number }>`${PREPARED}select ${n}::int * 2 as twice`.execute(db);
      const results = [];
      for (const n of [1, 2, 3]) results.push((await marked(n)).rows[0].twice);
      expect(results).toEqual([2, 4, 6]);
      await sql`select ${5}::int + 1 as plain`.execute(db);
      const { rows } = await sql<{ name: string; statement: string }>`
        select name, statement from pg_prepared_statements order by name`.execute(db);
      expect(rows).toEqual([
        {
          name: expect.stringMatching(/^palisade_[0-9a-f]{24}$/),
          statement: expect.stringContaining('* 2 as twice'),
        },
      ]);
      // Inside a transaction too (the event store's appends run there).
      const inTransaction = await db
        .transaction()
        .execute((trx) => sql<{ twice: number }>`${PREPARED}select ${21}::int * 2 as twice`.execute(trx));
      expect(inTransaction.rows[0].twice).toBe(42);
    } finally {
      await db.destroy();
    }
  });
});
