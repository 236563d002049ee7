/**
 * An unroutable message (mandatory publish, no binding for its key) is a failure tied to that message:
 * `basic.return` before its ack, retried `maxAttempts` times, then handed to the dead-letter exchange
 * with the reason in its headers. Routable messages beside it are unaffected.
 */
import { afterAll, expect, it } from 'vitest';
import { drainQueue, report, score } from '../faults/support/scorer.js';
import { mergeOptions } from '../support/merge-options.js';
import { deleteTopology, SHARED_BROKER_URL, uniqueTopology } from './support/broker-objects.js';
import { expectDeadLetter } from './support/dead-letters.js';
import { message, testProducer } from './support/producer.js';

const MAX_ATTEMPTS = 3;
const ROUTABLE = 100;
const names = uniqueTopology('unroutable');

afterAll(() => deleteTopology(SHARED_BROKER_URL, names));

it('retries an unroutable message maxAttempts times, then dead-letters it with reason RETURNED', async () => {
  const producer = testProducer(
    mergeOptions(names.producerOptions, { retry: { maxAttempts: MAX_ATTEMPTS } }),
  );
  await producer.start();
  const unroutable = message(names.exchange, 'no.queue.bound', 'unroutable', -1);
  const routable = Array.from({ length: ROUTABLE }, (_, n) =>
    message(names.exchange, names.queue, 'unroutable', n),
  );
  const receipts = await producer.publishMany([...routable.slice(0, 50), unroutable, ...routable.slice(50)]);
  const outcomes = new Map(
    await Promise.all(receipts.map(async (receipt) => [receipt.messageId, await receipt.settled] as const)),
  );

  expect(outcomes.get(unroutable.messageId as string)).toBe('dead-lettered');
  expect([...outcomes.values()].filter((outcome) => outcome === 'confirmed')).toHaveLength(ROUTABLE);
  expect(producer.status().messages).toMatchObject({
    confirmed: ROUTABLE,
    deadLettered: 1,
    journalPending: 0,
  });
  await producer.close();

  const deadLetters = await drainQueue(SHARED_BROKER_URL, names.deadLetterQueue);
  expect(deadLetters).toHaveLength(1);
  expectDeadLetter(deadLetters[0], { reason: 'RETURNED', attempts: MAX_ATTEMPTS, request: unroutable });
  expect(deadLetters[0]?.exchange).toBe(names.deadLetterExchange);

  const verdict = score(
    [...routable.map((request) => request.messageId as string), unroutable.messageId as string],
    await drainQueue(SHARED_BROKER_URL, names.queue),
    { deadLetters },
  );
  report('unroutable', verdict);
  expect(verdict).toMatchObject({
    delivered: ROUTABLE,
    deadLettered: 1,
    lost: 0,
    duplicated: 0,
    unexpected: 0,
  });
}, 30_000);
