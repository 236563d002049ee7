/** The failover round's order over `urls`: a seeded start that spreads instances, a failed node last. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterConnected,
  afterFailed,
  firstRotation,
  type NodeRotation,
  roundOrder,
} from '../../src/amqp/node-rotation.js';

const seeds = fc.integer({ min: 0, max: 0xffffffff });
const counts = fc.integer({ min: 1, max: 9 });

/** A rotation after a random history of attempts that connected or failed. */
const rotations: fc.Arbitrary<NodeRotation> = fc
  .tuple(counts, seeds, fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 20 }))
  .map(([count, seed, history]) =>
    history.reduce(
      (rotation, [n, connected]) =>
        connected ? afterConnected(rotation, n % count) : afterFailed(rotation, n % count),
      firstRotation(count, seed),
    ),
  );

describe('node rotation', () => {
  it('a round tries every URL exactly once, whatever came before', () => {
    fc.assert(
      fc.property(rotations, (rotation) => {
        const order = roundOrder(rotation);
        expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: rotation.count }, (_, i) => i));
      }),
    );
  });

  it('the same seed starts on the same URL', () => {
    fc.assert(
      fc.property(counts, seeds, (count, seed) => {
        expect(firstRotation(count, seed)).toEqual(firstRotation(count, seed));
      }),
    );
  });

  it('instances with different seeds spread evenly over three nodes', () => {
    const starts = [0, 0, 0];
    const instances = 3_000;
    for (let seed = 0; seed < instances; seed += 1) {
      const first = roundOrder(firstRotation(3, seed))[0]!;
      starts[first] = (starts[first] ?? 0) + 1;
    }
    // A fair draw puts 1,000 on each node; 850 is over 5 standard deviations below that.
    for (const started of starts) expect(started).toBeGreaterThan(850);
  });

  it('after a node failed, the next round tries it last', () => {
    fc.assert(
      fc.property(rotations, fc.nat(), (rotation, n) => {
        const failed = n % rotation.count;
        expect(roundOrder(afterFailed(rotation, failed)).at(-1)).toBe(failed);
      }),
    );
  });

  it('after a node connected, the next round starts there', () => {
    fc.assert(
      fc.property(rotations, fc.nat(), (rotation, n) => {
        const connected = n % rotation.count;
        expect(roundOrder(afterConnected(rotation, connected))[0]).toBe(connected);
      }),
    );
  });
});
