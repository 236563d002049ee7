/**
 * The default exchange (`''`) routes a message to the queue its routing key names. Publishing there is
 * as safe as through a named exchange: a key that names no queue comes back (`basic.return`), is
 * retried and dead-lettered `RETURNED`; nothing vanishes.
 */
import { afterAll, expect, it } from 'vitest';
import { drainQueue, report, score } from '../faults/support/scorer.js';
import { mergeOptions } from '../support/merge-options.js';
import { deleteTopology, SHARED_BROKER_URL, uniqueTopology } from './support/broker-objects.js';
import { expectDeadLetter } from './support/dead-letters.js';
import { message, testProducer } from './support/producer.js';

const MAX_ATTEMPTS = 2;
const ROUTED = 200;
const names = uniqueTopology('default-exchange');

afterAll(() => deleteTopology(SHARED_BROKER_URL, names));

it('delivers to the queue named by the routing key, and dead-letters a key that names none', async () => {
  const producer = testProducer(
    mergeOptions(names.producerOptions, { retry: { maxAttempts: MAX_ATTEMPTS } }),
  );
  await producer.start();
  const routed = Array.from({ length: ROUTED }, (_, n) => message('', names.queue, 'default-exchange', n));
  const nowhere = message('', `${names.queue}.missing`, 'default-exchange', -1);
  const receipts = await producer.publishMany([...routed.slice(0, 100), nowhere, ...routed.slice(100)]);
  const outcomes = await Promise.all(receipts.map((receipt) => receipt.settled));

  expect(outcomes.filter((outcome) => outcome === 'confirmed')).toHaveLength(ROUTED);
  expect(outcomes[100]).toBe('dead-lettered');
  await producer.close();

  const deadLetters = await drainQueue(SHARED_BROKER_URL, names.deadLetterQueue);
  expect(deadLetters).toHaveLength(1);
  expectDeadLetter(deadLetters[0], { reason: 'RETURNED', attempts: MAX_ATTEMPTS, request: nowhere });

  const delivered = await drainQueue(SHARED_BROKER_URL, names.queue);
  // The default exchange delivers under its own name, the empty string.
  expect(delivered.every((delivery) => delivery.exchange === '')).toBe(true);
  const verdict = score(
    [...routed, nowhere].map((request) => request.messageId as string),
    delivered,
    { deadLetters },
  );
  report('default exchange', verdict);
  expect(verdict).toMatchObject({
    delivered: ROUTED,
    deadLettered: 1,
    lost: 0,
    duplicated: 0,
    unexpected: 0,
  });
}, 30_000);
