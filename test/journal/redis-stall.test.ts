/**
 * A producer on the redis journal whose event loop stalls for longer than its lease (issue 21, item
 * 3): its lease lapses with nobody else around, and it must not claim and publish again the messages
 * it still has in flight. Each message reaches the broker once and every receipt settles.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RedisJournal } from '../../src/journal/redis-journal.js';
import { createProducer, type Producer } from '../../src/producer/producer.js';
import { FakeBroker } from '../support/fake-broker.js';
import { deletePrefix, REDIS_URL, rawRedis, uniquePrefix } from './redis-support.js';

const cleanups: (() => Promise<unknown> | undefined)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('a producer stalled past its redis lease', () => {
  it('publishes each in-flight message once and settles every receipt', async () => {
    const keyPrefix = uniquePrefix('stall');
    const redis = rawRedis();
    cleanups.push(() => deletePrefix(keyPrefix));
    cleanups.push(() => {
      redis.disconnect();
      return undefined;
    });
    const journal = new RedisJournal({ url: REDIS_URL, keyPrefix, instanceId: 'one', leaseMs: 300 });
    // Counts the claim loop's rounds, so the test knows it ran after the stall.
    const claim = journal.claim.bind(journal);
    let claims = 0;
    journal.claim = () => {
      claims += 1;
      return claim();
    };
    const broker = new FakeBroker();
    const producer: Producer = createProducer(
      { closeTimeoutMs: 0, topology: { declare: false } },
      { broker, journal },
    );
    cleanups.push(() => producer.close({ timeoutMs: 0 }));
    await producer.start();
    const receipts = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        producer.publish({ exchange: 'tasks', routingKey: 'ml', body: { n }, messageId: `m-${n}` }),
      ),
    );
    await until(() => broker.published.length === 20, 'the 20 writes');
    const before = await redis.get(`${keyPrefix}:lease:one`);

    const stallUntil = Date.now() + 1_000;
    while (Date.now() < stallUntil) {
      // busy: the event loop stalls, nothing renews, the lease lapses in Redis
    }
    await until(async () => {
      const lease = await redis.get(`${keyPrefix}:lease:${journal.instanceId}`);
      return lease !== null && lease !== before;
    }, 'the journal owning again');
    const claimsAfter = claims;
    await until(() => claims >= claimsAfter + 3, 'three claim rounds after the stall');

    for (const session of broker.sessions) session.ackAll();
    await Promise.all(receipts.map((receipt) => receipt.settled));
    for (let n = 0; n < 20; n += 1) expect(broker.publishesOf(`m-${n}`)).toHaveLength(1);
    expect(broker.published).toHaveLength(20);
    expect(producer.status().messages.journalPending).toBe(0);
  });
});
