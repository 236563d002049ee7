import { describe, expect, it } from 'vitest';
import { pickChannel } from '../../src/amqp/channel-pick.js';
import { ML_QUEUES } from '../../src/amqp/topology.js';

describe('pickChannel', () => {
  it('one channel: always the first, whatever the key', () => {
    for (const key of ['', 'ml.summarize', 'x'.repeat(300)]) expect(pickChannel(key, 1)).toBe(0);
  });

  it('the same key always takes the same channel, within range', () => {
    for (const count of [2, 3, 4, 7, 32]) {
      for (let n = 0; n < 200; n += 1) {
        const key = `tasks.${n}`;
        const channel = pickChannel(key, count);
        expect(channel).toBeGreaterThanOrEqual(0);
        expect(channel).toBeLessThan(count);
        expect(Number.isInteger(channel)).toBe(true);
        expect(pickChannel(key, count)).toBe(channel);
      }
    }
  });

  it('many keys spread over every channel, none taking more than twice its share', () => {
    const keys = Array.from({ length: 4_000 }, (_, n) => `orders.region-${n % 40}.shard-${n}`);
    for (const count of [2, 4, 8]) {
      const load = new Array<number>(count).fill(0);
      for (const key of keys) load[pickChannel(key, count)]! += 1;
      const share = keys.length / count;
      for (const taken of load) {
        expect(taken).toBeGreaterThan(share / 2);
        expect(taken).toBeLessThan(share * 2);
      }
    }
  });

  it('keys that differ in one character usually part', () => {
    // Neighbouring queue names must not all collapse onto one channel.
    const keys = Array.from({ length: 26 }, (_, n) => `queue.${String.fromCharCode(97 + n)}`);
    expect(new Set(keys.map((key) => pickChannel(key, 4))).size).toBe(4);
  });

  it("ferry's own ML queues do not all share one channel of two", () => {
    expect(new Set(ML_QUEUES.map((queue) => pickChannel(queue, 2))).size).toBe(2);
  });
});
