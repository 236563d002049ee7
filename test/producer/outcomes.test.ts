/**
 * `producer.outcomes$`: every message's outcome with its id, for callers who never read
 * `receipt.settled`; nothing after unsubscribing; complete once closed. Receipts nobody reads cause no
 * unhandled rejection, even when the close abandons them.
 */
import { expect, it } from 'vitest';
import { DEAD_LETTER_EXCHANGE } from '../../src/amqp/topology.js';
import type { Settlement } from '../../src/producer/receipt.js';
import { recordUnhandledRejections, rejectionsReported } from '../support/unhandled-rejections.js';
import { eventually, startedRig, task } from './helpers.js';

const unhandled = recordUnhandledRejections();

it('emits each settled message with its outcome, once, and nothing after unsubscribing', async () => {
  const { producer, broker } = await startedRig({ retry: { maxAttempts: 1 } });
  // m-2 is nacked on its way to the exchange, so it is dead-lettered; everything else is acked.
  broker.responder = (publish) =>
    publish.properties.messageId === 'm-2' && publish.exchange !== DEAD_LETTER_EXCHANGE ? 'nack' : 'ack';
  const outcomes: { messageId: string; outcome: Settlement }[] = [];
  const subscription = producer.outcomes$.subscribe((event) => outcomes.push(event));
  for (const n of [1, 2, 3]) await producer.publish(task(n));

  await eventually(() => outcomes.length === 3, 'three outcomes');
  expect([...outcomes].sort((a, b) => a.messageId.localeCompare(b.messageId))).toEqual([
    { messageId: 'm-1', outcome: 'confirmed' },
    { messageId: 'm-2', outcome: 'dead-lettered' },
    { messageId: 'm-3', outcome: 'confirmed' },
  ]);
  expect(producer.status().messages).toMatchObject({ confirmed: 2, deadLettered: 1 });

  subscription.unsubscribe();
  await producer.publish(task(4));
  expect(await producer.flush({ timeoutMs: 2_000 })).toBe(true);
  expect(producer.status().messages.confirmed).toBe(3);
  expect(outcomes).toHaveLength(3);
});

it('completes on close; a message the close abandons, its receipt never read, is no unhandled rejection', async () => {
  const { producer, broker } = await startedRig();
  broker.responder = () => undefined; // never answers: the message is still in flight at close
  let completed = false;
  const outcomes: unknown[] = [];
  producer.outcomes$.subscribe({ next: (event) => outcomes.push(event), complete: () => (completed = true) });
  await producer.publish(task(1));
  const result = await producer.close({ timeoutMs: 0 });
  await rejectionsReported();

  expect(result.dropped).toBe(1);
  expect(completed).toBe(true);
  expect(outcomes).toEqual([]);
  expect(unhandled).toEqual([]);
  let lateCompleted = false;
  producer.outcomes$.subscribe({ complete: () => (lateCompleted = true) });
  expect(lateCompleted).toBe(true);
});
