import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seqRanges } from '../../src/journal/sqlite-rows.js';

describe('seqRanges', () => {
  it('covers exactly the given seqs, in order, with no two ranges that could have been one', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { maxLength: 120 }), (seqs) => {
        const ranges = seqRanges([...seqs]);
        const covered = ranges.flatMap(([first, last]) =>
          Array.from({ length: last - first + 1 }, (_, n) => first + n),
        );
        expect(covered).toEqual([...seqs].sort((a, b) => a - b));
        for (const [index, [first, last]] of ranges.entries()) {
          expect(first).toBeLessThanOrEqual(last);
          const previous = ranges[index - 1];
          if (previous !== undefined) expect(first).toBeGreaterThan(previous[1] + 1);
        }
      }),
    );
  });
});
