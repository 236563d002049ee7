/**
 * Two ferry instances on one Redis journal and the real broker. One is killed with SIGKILL mid-stream;
 * the survivor claims the dead one's unfinished messages once its lease expires and delivers them.
 * Every message either instance accepted must arrive (lost = 0); only messages the dead instance
 * still owned at the kill may arrive twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { report, score as scoreRun } from '../faults/support/scorer.js';
import { deletePrefix, rawRedis, uniquePrefix } from '../journal/redis-support.js';
import {
  BROKER_URL,
  Child,
  deleteTopology,
  drainQueue,
  killChildren,
  runTopology,
  score,
} from './support.js';

afterEach(killChildren);

const LEASE_MS = 1_500;

describe('crash: two instances on the redis journal', () => {
  it("the survivor finishes the killed instance's accepted messages after its lease expires", async () => {
    const topology = runTopology('redis');
    const keyPrefix = uniquePrefix('crash');
    const redis = rawRedis();
    const journal = (instanceId: string) =>
      ({ kind: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix, instanceId, leaseMs: LEASE_MS }) as const;
    const common = {
      url: BROKER_URL,
      topology: topology.options,
      routingKey: topology.queue,
      window: 256,
      deadlineMs: 90_000,
    };
    const killAt = 3_000 + Math.floor(Math.random() * 9_000);
    try {
      const doomed = new Child({
        ...common,
        mode: 'publish',
        journal: journal('doomed'),
        prefix: 'a',
        count: 20_000,
      });
      const survivor = new Child({
        ...common,
        mode: 'publish',
        journal: journal('survivor'),
        prefix: 'b',
        count: 5_000,
        stayAlive: true,
      });
      await doomed.until(() => doomed.accepted.size >= killAt, `${killAt} accepted`, 60_000);
      doomed.kill();
      await doomed.exited;
      const killedAt = Date.now();
      const unknown = new Set(await redis.smembers(`${keyPrefix}:owned:doomed`));

      // Claimed (tombstone left), and everything the survivor owns, its own and the claimed, finished.
      await survivor.until(
        () => survivor.report('published') !== undefined,
        'the survivor publishing',
        60_000,
      );
      // The tombstone has a TTL (10 leases): on a loaded machine the survivor may still be finishing
      // when it lapses, so remember when it was first seen rather than demand both at one poll.
      const deadline = Date.now() + 60_000;
      let claimedAfterMs: number | null = null;
      while (Date.now() < deadline) {
        const [lease, owned] = await Promise.all([
          redis.get(`${keyPrefix}:lease:doomed`),
          redis.scard(`${keyPrefix}:owned:survivor`),
        ]);
        if (lease === 'claimed-by:survivor') claimedAfterMs ??= Date.now() - killedAt;
        if (claimedAfterMs !== null && owned === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(claimedAfterMs).not.toBeNull();
      expect(await redis.scard(`${keyPrefix}:owned:survivor`)).toBe(0);
      expect(claimedAfterMs).toBeGreaterThanOrEqual(LEASE_MS / 2);
      survivor.send('stop');
      expect(await survivor.exited).toBe(0);

      const counts = await drainQueue(topology.queue);
      const accepted = new Set([...doomed.accepted, ...survivor.accepted]);
      const doomedScore = score(doomed.accepted, counts, 'a');
      const survivorScore = score(survivor.accepted, counts, 'b');
      expect(doomedScore.lost).toEqual([]);
      expect(survivorScore.lost).toEqual([]);
      expect([...counts.keys()].filter((id) => !id.startsWith('a-') && !id.startsWith('b-'))).toEqual([]);
      const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
      expect(duplicated.filter((id) => !unknown.has(id))).toEqual([]);
      for (const id of unknown) expect(counts.has(id)).toBe(true);
      expect(await redis.xlen(`${keyPrefix}:events`)).toBe(0);
      // The row of docs/reliability.md: accepted includes what the killed child journaled and had not
      // reported yet (every delivered id of either run).
      const deliveries = [...counts].flatMap(([messageId, n]) =>
        Array.from({ length: n }, () => ({ messageId })),
      );
      report('redis-kill', scoreRun(new Set([...accepted, ...counts.keys()]), deliveries), {
        leaseMs: LEASE_MS,
        ownedAtKill: unknown.size,
        recoveryMs: claimedAfterMs,
      });
      console.log(
        `killed after ${doomed.accepted.size} accepted reported; ${unknown.size} owned by it at the kill; ` +
          `claimed and finished ${claimedAfterMs} ms after the kill; ${accepted.size} accepted in all, ` +
          `${counts.size} delivered, ${duplicated.length} duplicated, 0 lost`,
      );
    } finally {
      redis.disconnect();
      await deletePrefix(keyPrefix);
      await deleteTopology(topology);
    }
  }, 150_000);
});
