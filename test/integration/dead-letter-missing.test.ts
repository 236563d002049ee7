/**
 * When even the dead-letter hand-off fails (its exchange does not exist: 404 closes the channel), the
 * message is parked, still owned by the journal, and tried again every `parkedRetryDelayMs`; once the
 * dead-letter exchange exists it lands in the dead-letter queue. Nothing is dropped.
 */
import { afterAll, expect, it } from 'vitest';
import { drainQueue } from '../faults/support/scorer.js';
import { mergeOptions } from '../support/merge-options.js';
import {
  declareDeadLetter,
  deleteTopology,
  SHARED_BROKER_URL,
  uniqueTopology,
  withChannel,
} from './support/broker-objects.js';
import { expectDeadLetter } from './support/dead-letters.js';
import { message, messageActor, statusWhere, testProducer } from './support/producer.js';

const MAX_ATTEMPTS = 2;
const names = uniqueTopology('parked', { withDeadLetter: false });

afterAll(() => deleteTopology(SHARED_BROKER_URL, names));

it('parks a message whose dead-letter exchange is missing, and dead-letters it once the exchange exists', async () => {
  const dlxExists = await withChannel(SHARED_BROKER_URL, (channel) =>
    channel.checkExchange(names.deadLetterExchange).then(
      () => true,
      () => false,
    ),
  );
  expect(dlxExists).toBe(false);
  const producer = testProducer(
    mergeOptions(names.producerOptions, {
      retry: { maxAttempts: MAX_ATTEMPTS, parkedDelayMs: 500 },
      breaker: { failureThreshold: 1_000 },
    }),
  );
  await producer.start();
  const request = message(names.exchange, 'no.queue.bound', 'parked', 0);
  const receipt = await producer.publish(request);
  let outcome: string | undefined;
  void receipt.settled.then((settled) => {
    outcome = settled;
  });

  const parked = await statusWhere(producer, (status) => status.messages.parked >= 1, 'a parked message');
  expect(parked.messages).toMatchObject({ parked: 1, deadLettered: 0, journalPending: 1 });
  // Parked, it tries again and fails again; it stays parked and journaled, not dropped.
  await statusWhere(
    producer,
    () => (messageActor(producer, request.messageId as string)?.context.deadLetterFailures ?? 0) >= 2,
    'a second failed hand-off',
    10_000,
  );
  expect(producer.status().messages).toMatchObject({ journalPending: 1, deadLettered: 0 });
  expect(outcome).toBeUndefined();

  await declareDeadLetter(SHARED_BROKER_URL, names);
  await expect(receipt.settled).resolves.toBe('dead-lettered');
  expect(producer.status().messages).toMatchObject({ parked: 0, deadLettered: 1, journalPending: 0 });
  await producer.close();

  const deadLetters = await drainQueue(SHARED_BROKER_URL, names.deadLetterQueue);
  expect(deadLetters).toHaveLength(1);
  expectDeadLetter(deadLetters[0], { reason: 'RETURNED', attempts: MAX_ATTEMPTS, request });
}, 30_000);
