import fc from 'fast-check';
import { EMPTY_GAP_STATE, missingRanges, recordApplied } from '../src/gap-tracker';

describe('gap tracker', () => {
  it('reaches the contiguous watermark whatever the arrival order and duplicates', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.shuffledSubarray(
              [...Array(n).keys()].map((i) => i + 1),
              { minLength: n },
            ),
          ),
        ),
        fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 20 }),
        ([n, order], duplicates) => {
          let state = EMPTY_GAP_STATE;
          for (const s of order)
            state = recordApplied(state, [s, ...duplicates.filter((d) => d <= n && d === s)]);
          expect(state.watermark).toBe(n);
          expect(state.above.size).toBe(0);
          expect(missingRanges(state, n)).toEqual([]);
        },
      ),
    );
  });

  it('reports exactly the sequences that never arrived', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 300 }), { maxLength: 150 }),
        fc.integer({ min: 0, max: 320 }),
        (applied, upTo) => {
          const state = recordApplied(EMPTY_GAP_STATE, applied);
          const missing = missingRanges(state, upTo).flatMap(([a, b]) =>
            [...Array(b - a + 1).keys()].map((i) => a + i),
          );
          const expected = [...Array(upTo).keys()].map((i) => i + 1).filter((s) => !applied.includes(s));
          expect(missing).toEqual(expected);
        },
      ),
    );
  });
});
