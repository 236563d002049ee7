import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { drawRandom, type RandomState, seedRandom } from '../../machines/random.js';

const uint32 = fc.nat({ max: 0xffffffff });

function draws(state: RandomState, count: number): number[] {
  const values: number[] = [];
  let current = state;
  for (let i = 0; i < count; i++) {
    const draw = drawRandom(current);
    values.push(draw.value);
    current = draw.next;
  }
  return values;
}

describe('seeded random', () => {
  it('seedRandom turns any finite number into a 32-bit unsigned state', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (seed) => {
        const state = seedRandom(seed);
        expect(Number.isInteger(state)).toBe(true);
        expect(state).toBeGreaterThanOrEqual(0);
        expect(state).toBeLessThanOrEqual(0xffffffff);
      }),
    );
  });

  it('draws values in [0, 1) and a next state that is again a 32-bit unsigned integer', () => {
    fc.assert(
      fc.property(uint32, (state) => {
        const { value, next } = drawRandom(state);
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThan(1);
        expect(Number.isInteger(next)).toBe(true);
        expect(next).toBeGreaterThanOrEqual(0);
        expect(next).toBeLessThanOrEqual(0xffffffff);
      }),
    );
  });

  it('is deterministic: the same state gives the same sequence', () => {
    fc.assert(
      fc.property(uint32, (state) => {
        expect(draws(state, 50)).toEqual(draws(state, 50));
      }),
    );
  });

  it('different seeds give different sequences', () => {
    fc.assert(
      fc.property(uint32, uint32, (a, b) => {
        fc.pre(a !== b);
        expect(draws(seedRandom(a), 20)).not.toEqual(draws(seedRandom(b), 20));
      }),
    );
  });

  describe('spread of 10,000 draws', () => {
    const count = 10_000;
    // Six standard deviations: a correct uniform source fails this about once in 10⁹ runs.
    const sigmas = 6;

    it('has a mean near 1/2', () => {
      // Uniform [0, 1) has variance 1/12, so the mean of n draws has standard deviation √(1/12n).
      const tolerance = sigmas * Math.sqrt(1 / 12 / count);
      fc.assert(
        fc.property(uint32, (seed) => {
          const values = draws(seedRandom(seed), count);
          const mean = values.reduce((sum, value) => sum + value, 0) / count;
          expect(Math.abs(mean - 0.5)).toBeLessThan(tolerance);
        }),
        { numRuns: 20 },
      );
    });

    it('fills every tenth of [0, 1) about equally', () => {
      const bins = 10;
      const p = 1 / bins;
      // Each bin's count is binomial(n, p): mean np, standard deviation √(np(1−p)).
      const expected = count * p;
      const tolerance = sigmas * Math.sqrt(count * p * (1 - p));
      fc.assert(
        fc.property(uint32, (seed) => {
          const histogram = new Array<number>(bins).fill(0);
          for (const value of draws(seedRandom(seed), count)) {
            const bin = Math.floor(value * bins);
            histogram[bin] = (histogram[bin] ?? 0) + 1;
          }
          for (const binCount of histogram) {
            expect(Math.abs(binCount - expected)).toBeLessThan(tolerance);
          }
        }),
        { numRuns: 20 },
      );
    });
  });
});
