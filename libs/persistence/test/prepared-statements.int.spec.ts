import { testDatabase } from '@palisade/testing';
import { sql } from 'kysely';
import { Client } from 'pg';
import { createDatabase, PREPARED } from '../src/database';
import { claimEvents } from '../src/inbox.repository';

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

  describe("a transaction's BEGIN", () => {
    let db: ReturnType<typeof createDatabase>;
    let sent: string[];
    let spy: jest.SpyInstance;
    beforeAll(async () => {
      db = createDatabase({ url: database.url, schema: 'begin_test', poolSize: 2 });
      await sql`create schema if not exists begin_test`.execute(db);
      await sql`create table if not exists begin_test.notes (id int primary key)`.execute(db);
    });
    beforeEach(() => {
      sent = [];
      const query = Client.prototype.query;
      spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (
        this: Client,
        ...args: unknown[]
      ) {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
        if (text) sent.push(text.replace(/\s+/g, ' ').trim());
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as never);
    });
    afterEach(() => spy.mockRestore());
    afterAll(async () => {
      await db?.destroy();
    });

    const txid = (trx: typeof db) => sql<{ id: string }>`select txid_current()::text as id`.execute(trx);

    it('travels with a first statement that takes no parameters, in one round trip, and opens the transaction', async () => {
      const ids = await db.transaction().execute(async (trx) => {
        const first = await txid(trx);
        const second = await sql<{ id: string }>`select txid_current()::text as id, ${1}::int as one`.execute(
          trx,
        );
        return [first.rows[0].id, second.rows[0].id];
      });
      expect(ids[0]).toBe(ids[1]);
      expect(sent).toEqual([
        'begin; select txid_current()::text as id',
        'select txid_current()::text as id, $1::int as one',
        'commit',
      ]);
    });

    it('goes on its own before a first statement with parameters', async () => {
      await db.transaction().execute((trx) => sql`select ${1}::int`.execute(trx));
      expect(sent).toEqual(['begin', 'select $1::int', 'commit']);
    });

    it('is not sent for a transaction that runs nothing', async () => {
      await db.transaction().execute(async () => undefined);
      await expect(
        db.transaction().execute(async () => {
          throw new Error('before any statement');
        }),
      ).rejects.toThrow('before any statement');
      expect(sent).toEqual([]);
    });

    it('rolls back what the merged statement and later ones did when the transaction fails', async () => {
      await expect(
        db.transaction().execute(async (trx) => {
          await sql`insert into begin_test.notes (id) values (1)`.execute(trx);
          await sql`insert into begin_test.notes (id) values (${2})`.execute(trx);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      // A failing merged statement leaves the transaction aborted, and it is rolled back.
      await expect(
        db.transaction().execute((trx) => sql`insert into begin_test.notes (id) values (1/0)`.execute(trx)),
      ).rejects.toThrow(/division by zero/);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from begin_test.notes`.execute(db);
      expect(rows[0].n).toBe(0);
      expect(sent.filter((t) => t === 'rollback')).toHaveLength(2);
    });

    it('carries the inbox claim, whose values it quotes and checks', async () => {
      await sql`create table if not exists inbox (consumer text, event_id uuid, primary key (consumer, event_id))`.execute(
        db,
      );
      sent.length = 0;
      const id = '019ad5a0-0000-7000-8000-000000000001';
      const hostile = `it's'); drop table begin_test.notes; --`;
      const claimed = await db.transaction().execute((trx) => claimEvents(trx, hostile, [id, id]));
      expect([...claimed]).toEqual([id]);
      expect(sent).toHaveLength(2);
      expect(sent[0]).toMatch(/^begin; insert into inbox/);
      await expect(db.transaction().execute((trx) => claimEvents(trx, 'c', [`${id}}`, id]))).rejects.toThrow(
        'is not a UUID',
      );
      const { rows } = await sql<{ consumer: string }>`select consumer from inbox`.execute(db);
      expect(rows).toEqual([{ consumer: hostile }]);
      expect((await sql<{ n: number }>`select count(*)::int as n from notes`.execute(db)).rows[0].n).toBe(0);
    });
  });
});
