import { AnyDatabase, asPersistence, PREPARED } from '@palisade/persistence';
import { sql } from 'kysely';

/**
 * What a gap-checking consumer has applied of one producer's sequence: a contiguous
 * watermark (everything <= it is applied) plus the applied sequences above it. The missing
 * ones between are gaps: the transport lost them, and the consumer replays them.
 */
export interface GapState {
  watermark: number;
  above: ReadonlySet<number>;
}

export const EMPTY_GAP_STATE: GapState = { watermark: 0, above: new Set() };

/** Adds applied sequences; pure. */
export function recordApplied(state: GapState, sequences: Iterable<number>): GapState {
  let watermark = state.watermark;
  const above = new Set(state.above);
  for (const sequence of sequences) if (sequence > watermark) above.add(sequence);
  while (above.delete(watermark + 1)) watermark++;
  return { watermark, above };
}

/** Sequences in (watermark, upTo] that are not applied, as inclusive ranges; pure. */
export function missingRanges(state: GapState, upTo: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let start: number | undefined;
  for (let s = state.watermark + 1; s <= upTo; s++) {
    if (state.above.has(s)) {
      if (start !== undefined) ranges.push([start, s - 1]);
      start = undefined;
    } else start ??= s;
  }
  if (start !== undefined) ranges.push([start, upTo]);
  return ranges;
}

/** The highest applied sequence. */
export function highestApplied(state: GapState): number {
  return Math.max(state.watermark, ...state.above);
}

type Db = AnyDatabase;

/** Loads the state: the watermark lives in consumer_positions, the rest in the inbox-adjacent table. */
export async function loadGapState(db: Db, consumer: string, producer: string): Promise<GapState> {
  const row = await asPersistence(db)
    .selectFrom('consumer_positions')
    .select('last_sequence')
    .where('consumer', '=', consumer)
    .where('producer', '=', producer)
    .executeTakeFirst();
  const { rows } = await sql<{ sequence: number }>`
    select sequence from consumer_sequences where consumer = ${consumer} and producer = ${producer}`.execute(
    db,
  );
  return { watermark: row?.last_sequence ?? 0, above: new Set(rows.map((r) => r.sequence)) };
}

/** Persists the change from `before` to `after` in the caller's transaction. */
export async function saveGapState(
  trx: Db,
  consumer: string,
  producer: string,
  before: GapState,
  after: GapState,
): Promise<void> {
  if (after.watermark !== before.watermark) {
    await sql`${PREPARED}
      insert into consumer_positions (consumer, producer, last_sequence) values (${consumer}, ${producer}, ${after.watermark})
      on conflict (consumer, producer) do update set last_sequence = excluded.last_sequence`.execute(trx);
    if (before.above.size) {
      await sql`${PREPARED}delete from consumer_sequences where consumer = ${consumer} and producer = ${producer} and sequence <= ${after.watermark}`.execute(
        trx,
      );
    }
  }
  const added = [...after.above].filter((s) => !before.above.has(s));
  if (added.length) {
    await sql`${PREPARED}
      insert into consumer_sequences (consumer, producer, sequence)
      select ${consumer}, ${producer}, s from unnest(${added}::int8[]) as s
      on conflict do nothing`.execute(trx);
  }
}
