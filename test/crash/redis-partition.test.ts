/**
 * A ferry instance cut off from Redis for longer than its lease while publishing, then healed, then
 * killed with SIGKILL; a second instance shares the journal. The cut-off instance reaches Redis
 * through a fault proxy whose latency is raised far above the lease: nothing it sends is lost (TCP
 * delivers it late, as after a real partition), its renewals arrive after the lease lapsed, the
 * survivor claims its owned set, and its writes land after that claim. Fencing refuses them; the
 * instance owns again under a new name with what it holds, goes on publishing, and is killed; the
 * survivor claims the new name too and finishes.
 *
 * Every accepted message must arrive (lost = 0). Duplicates may only be messages whose outcome was
 * unknown: those the survivor claimed at the partition (both instances held them) and those the
 * killed instance owned at the kill.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FaultProxy } from '../faults/support/fault-proxy.js';
import { drainQueue, report, score } from '../faults/support/scorer.js';
import { deletePrefix, rawRedis, uniquePrefix } from '../journal/redis-support.js';
import { BROKER_URL, Child, deleteTopology, killChildren, runTopology } from './support.js';

afterEach(killChildren);

const LEASE_MS = 1_500;
/** How late the cut-off instance's bytes arrive while cut off: far beyond the lease. */
const PARTITION_LATENCY_MS = 6_000;
/** How long it stays cut off (new bytes delayed), longer than the lease. */
const PARTITION_MS = 4_000;

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('crash: an instance partitioned from the redis journal', () => {
  it('cut off longer than its lease, healed, then killed: nothing lost, duplicates only of unknown outcomes', async () => {
    const topology = runTopology('partition');
    const keyPrefix = uniquePrefix('partition');
    const redis = rawRedis();
    const proxy = await FaultProxy.start({ targetPort: 6379 });
    const journal = (url: string, instanceId: string) =>
      ({ kind: 'redis', url, keyPrefix, instanceId, leaseMs: LEASE_MS }) as const;
    const common = {
      url: BROKER_URL,
      topology: topology.options,
      routingKey: topology.queue,
      window: 128,
      deadlineMs: 120_000,
    };
    const owned = (name: string) => `${keyPrefix}:owned:${name}`;
    try {
      const cut = new Child({
        ...common,
        mode: 'publish',
        journal: journal(`redis://127.0.0.1:${proxy.port}`, 'cut'),
        prefix: 'a',
        count: 1_000_000,
      });
      const survivor = new Child({
        ...common,
        mode: 'publish',
        journal: journal('redis://127.0.0.1:6379', 'survivor'),
        prefix: 'b',
        count: 2_000,
        stayAlive: true,
      });
      await cut.until(() => cut.accepted.size >= 2_000, '2,000 accepted before the partition', 60_000);

      proxy.set({ latencyMs: PARTITION_LATENCY_MS });
      const cutAt = Date.now();
      // Its set is frozen from the partition to the claim, which empties it and leaves the tombstone in
      // one step: the last set seen before the tombstone is what the survivor claimed.
      let heldAtPartition = new Set<string>();
      await poll(
        async () => {
          const [[, lease], [, ids]] = (await redis
            .multi()
            .get(`${keyPrefix}:lease:cut`)
            .smembers(owned('cut'))
            .exec()) as [[null, string | null], [null, string[]]];
          if (lease !== 'claimed-by:survivor') heldAtPartition = new Set(ids);
          return lease;
        },
        (lease) => lease === 'claimed-by:survivor',
        'the survivor claiming the cut-off instance',
      );
      const claimedAfterMs = Date.now() - cutAt;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutAt + PARTITION_MS - Date.now())));
      proxy.heal();
      const healedAt = Date.now();

      // Its late writes are refused; it owns again under a new name and keeps publishing.
      const rejoined = await poll(
        () => redis.smembers(`${keyPrefix}:instances`),
        (names) => names.some((name) => name.startsWith('cut~')),
        'the cut-off instance owning again under a new name',
      );
      const newName = rejoined.find((name) => name.startsWith('cut~')) as string;
      const rejoinedAfterMs = Date.now() - healedAt;
      const acceptedAtRejoin = cut.accepted.size;
      await cut.until(
        () => cut.accepted.size >= acceptedAtRejoin + 2_000,
        '2,000 more accepted after the heal',
        60_000,
      );
      cut.kill();
      await cut.exited;
      const ownedAtKill = new Set(await redis.smembers(owned(newName)));
      expect(ownedAtKill.size).toBeGreaterThan(0);

      await survivor.until(
        () => survivor.report('published') !== undefined,
        'the survivor publishing',
        60_000,
      );
      await poll(
        () => redis.get(`${keyPrefix}:lease:${newName}`),
        (lease) => lease === 'claimed-by:survivor',
        `the survivor claiming ${newName}`,
      );
      await poll(
        () => redis.scard(owned('survivor')),
        (n) => n === 0,
        'the survivor finishing what it claimed',
      );
      survivor.send('stop');
      expect(await survivor.exited).toBe(0);

      const deliveries = await drainQueue(BROKER_URL, topology.queue);
      // Accepted also: ids whose publish() resolved in the killed child after its last report to us
      // (journaled, so delivered by the survivor); a delivered id of neither run would be unexpected.
      const reported = new Set([...cut.accepted, ...survivor.accepted]);
      const unreported = deliveries
        .map((delivery) => delivery.messageId ?? '')
        .filter((id) => id.startsWith('a-') && !reported.has(id));
      const verdict = score(new Set([...reported, ...unreported]), deliveries);
      const unknown = new Set([...heldAtPartition, ...ownedAtKill]);
      const beyondUnknown = [...verdict.duplicatedIds].filter((id) => !unknown.has(id));
      report('redis-partition', verdict, {
        leaseMs: LEASE_MS,
        partitionMs: PARTITION_MS,
        heldAtPartition: heldAtPartition.size,
        ownedAtKill: ownedAtKill.size,
        acceptedUnreported: new Set(unreported).size,
        claimedAfterMs,
        recoveryMs: rejoinedAfterMs,
      });
      expect(verdict.lostIds).toEqual([]);
      expect(verdict.unexpectedIds).toEqual([]);
      expect(beyondUnknown).toEqual([]);
      expect(await redis.xlen(`${keyPrefix}:events`)).toBe(0);
      expect(await redis.keys(`${keyPrefix}:owned:*`)).toEqual([]);
    } finally {
      redis.disconnect();
      await proxy.stop();
      await deletePrefix(keyPrefix);
      await deleteTopology(topology);
    }
  }, 240_000);
});
