import { expect, it } from 'vitest';
import { outcomes, startedRig, task } from './helpers.js';

it('2,000 messages nacked once all end confirmed with at most 50 live message actors', async () => {
  const count = 2_000;
  const { producer, broker, journal } = await startedRig({
    retry: { maxLiveActors: 50, initialDelayMs: 1, maxDelayMs: 5 },
    // Every message fails once: the breaker would open and only slow this down.
    breaker: { failureThreshold: 1_000_000 },
    publish: { maxInFlight: 500 },
  });
  let mostChildren = 0;
  let mostBacklog = 0;
  const subscription = producer.supervisor.subscribe((snapshot) => {
    mostChildren = Math.max(mostChildren, Object.keys(snapshot.children).length);
    mostBacklog = Math.max(mostBacklog, snapshot.context.backlog);
  });
  const nacked = new Set<string>();
  broker.responder = (publish) => {
    const id = publish.properties.messageId as string;
    if (nacked.has(id)) return 'ack';
    nacked.add(id);
    return 'nack';
  };

  const receipts = [];
  for (let n = 0; n < count; n += 1) receipts.push(await producer.publish(task(n)));
  const settled = await outcomes(receipts, 20_000);
  subscription.unsubscribe();

  expect(settled).toEqual(Array(count).fill('confirmed'));
  expect(nacked.size).toBe(count);
  expect(broker.session.published).toHaveLength(2 * count);
  expect(journal.pendingCount()).toBe(0);
  expect(producer.status().messages).toMatchObject({ confirmed: count, retrying: 0, deadLettered: 0 });
  // 50 message actors, the connection and the breaker.
  expect(mostChildren).toBeLessThanOrEqual(52);
  // The cap was really reached: the rest waited in the backlog.
  expect(mostChildren).toBe(52);
  expect(mostBacklog).toBeGreaterThan(0);
}, 30_000);
