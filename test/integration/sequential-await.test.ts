/**
 * `for … await publish()` is not bound by confirm round trips: `publish()` resolves once the message is
 * accepted, so a sequential loop keeps many messages in flight. Asserted structurally, without clocks:
 * had `publish()` awaited its confirm, every message would be confirmed when its `publish()` returns
 * and at most that one would ever have been in flight.
 */
import { afterAll, expect, it } from 'vitest';
import type { PublishReceipt } from '../../src/producer/receipt.js';
import { drainQueue, report, score } from '../faults/support/scorer.js';
import { deleteTopology, SHARED_BROKER_URL, uniqueTopology } from './support/broker-objects.js';
import { message, testProducer } from './support/producer.js';

const COUNT = 2_000;
const names = uniqueTopology('sequential');

afterAll(() => deleteTopology(SHARED_BROKER_URL, names));

it('a sequential await loop of 2,000 publishes returns before each confirm and keeps many in flight', async () => {
  const producer = testProducer({ ...names.producerOptions });
  await producer.start();
  const receipts: PublishReceipt[] = [];
  let maxInFlight = 0;
  let returnedBeforeConfirm = 0;
  for (let n = 0; n < COUNT; n += 1) {
    const receipt = await producer.publish(message(names.exchange, names.queue, 'sequential', n));
    receipts.push(receipt);
    const { inFlight, accepted, confirmed } = producer.status().messages;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (confirmed < accepted) returnedBeforeConfirm += 1;
  }
  const atLoopEnd = producer.status().messages;

  // Every publish() returned before its own confirm (a confirm needs a round trip, and publish()
  // returns right after the write), and the in-flight window filled up behind the loop.
  expect(returnedBeforeConfirm).toBe(COUNT);
  expect(maxInFlight).toBeGreaterThan(1);
  expect(atLoopEnd.accepted).toBe(COUNT);

  const outcomes = await Promise.all(receipts.map((receipt) => receipt.settled));
  expect(outcomes.every((outcome) => outcome === 'confirmed')).toBe(true);
  await producer.close();
  const verdict = score(
    receipts.map((receipt) => receipt.messageId),
    await drainQueue(SHARED_BROKER_URL, names.queue),
  );
  report('sequential-await', verdict, {
    maxInFlight,
    returnedBeforeConfirm,
    confirmedAtLoopEnd: atLoopEnd.confirmed,
  });
  expect(verdict).toMatchObject({ delivered: COUNT, lost: 0, duplicated: 0, unexpected: 0 });
}, 60_000);
