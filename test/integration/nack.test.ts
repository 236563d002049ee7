/**
 * A message the broker refuses (`basic.nack`: a full queue with `x-overflow: reject-publish`) is
 * retried `maxAttempts` times and then dead-lettered with reason NACKED.
 */
import { afterAll, expect, it } from 'vitest';
import { drainQueue } from '../faults/support/scorer.js';
import { mergeOptions } from '../support/merge-options.js';
import { deleteTopology, SHARED_BROKER_URL, uniqueTopology } from './support/broker-objects.js';
import { expectDeadLetter } from './support/dead-letters.js';
import { message, testProducer } from './support/producer.js';

const MAX_ATTEMPTS = 3;
const COUNT = 3;
const names = uniqueTopology('nack', {
  // A queue that holds nothing and refuses, rather than drops, what does not fit.
  queueArguments: { 'x-queue-type': 'classic', 'x-max-length': 0, 'x-overflow': 'reject-publish' },
});

afterAll(() => deleteTopology(SHARED_BROKER_URL, names));

it('retries nacked messages maxAttempts times, then dead-letters them with reason NACKED', async () => {
  // The breaker would count 9 nacks in a row as a sick broker; this test is about the message path.
  const producer = testProducer(
    mergeOptions(names.producerOptions, {
      retry: { maxAttempts: MAX_ATTEMPTS },
      breaker: { failureThreshold: 1_000 },
    }),
  );
  await producer.start();
  const requests = Array.from({ length: COUNT }, (_, n) => message(names.exchange, names.queue, 'nack', n));
  const receipts = await producer.publishMany(requests);
  const outcomes = await Promise.all(receipts.map((receipt) => receipt.settled));

  expect(outcomes).toEqual(requests.map(() => 'dead-lettered'));
  expect(producer.status().messages).toMatchObject({ confirmed: 0, deadLettered: COUNT, journalPending: 0 });
  await producer.close();

  const deadLetters = await drainQueue(SHARED_BROKER_URL, names.deadLetterQueue);
  expect(deadLetters.map((delivery) => delivery.messageId).sort()).toEqual(
    requests.map((request) => request.messageId).sort(),
  );
  for (const request of requests) {
    const delivery = deadLetters.find((candidate) => candidate.messageId === request.messageId);
    expectDeadLetter(delivery, { reason: 'NACKED', attempts: MAX_ATTEMPTS, request });
  }
  expect(await drainQueue(SHARED_BROKER_URL, names.queue)).toHaveLength(0);
}, 30_000);
