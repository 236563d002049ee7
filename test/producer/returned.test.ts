import { expect, it } from 'vitest';
import { DEAD_LETTER_EXCHANGE } from '../../src/amqp/topology.js';
import { DEAD_LETTER_HEADERS } from '../../src/producer/dead-letter-headers.js';
import { eventually, startedRig, task } from './helpers.js';

it('a returned message is a failure: retried, then dead-lettered as RETURNED', async () => {
  const { producer, broker } = await startedRig({ retry: { maxAttempts: 2 } });
  const receipt = await producer.publish(task(1));
  const session = broker.session;

  session.returnMessage('m-1', 312, 'NO_ROUTE');
  session.ack(1);
  await eventually(() => session.publishesOf('m-1').length === 2, 'the retry');
  expect(session.publishesOf('m-1')[1]!.exchange).toBe('tasks');
  expect(producer.status().messages).toMatchObject({ retrying: 1, confirmed: 0 });

  session.returnMessage('m-1', 312, 'NO_ROUTE');
  session.ack(2);
  await eventually(() => session.publishesOf('m-1').length === 3, 'the dead-letter publish');
  const deadLetter = session.publishesOf('m-1')[2]!;
  expect(deadLetter.exchange).toBe(DEAD_LETTER_EXCHANGE);
  expect(deadLetter.properties.headers).toMatchObject({
    [DEAD_LETTER_HEADERS.reason]: 'RETURNED',
    [DEAD_LETTER_HEADERS.attempts]: 2,
  });
  session.ack(deadLetter.tag);
  await expect(receipt.settled).resolves.toBe('dead-lettered');
});

it('returns do not open the breaker', async () => {
  const { producer, broker } = await startedRig({
    retry: { maxAttempts: 1 },
    breaker: { failureThreshold: 3 },
  });
  const session = broker.session;
  const receipts = [];
  for (let n = 1; n <= 6; n += 1) receipts.push(await producer.publish(task(n)));
  for (let n = 1; n <= 6; n += 1) session.returnMessage(`m-${n}`);
  session.ack(6, true);

  await eventually(() => session.published.length === 12, 'six dead-letter publishes');
  expect(producer.status().circuitBreaker).toMatchObject({ isOpen: false, consecutiveFailures: 0, trips: 0 });
  session.ackAll();
  await expect(Promise.all(receipts.map((r) => r.settled))).resolves.toEqual(Array(6).fill('dead-lettered'));
});

it('an unmatched return changes nothing for the other messages', async () => {
  const { producer, broker } = await startedRig();
  const receipt = await producer.publish(task(1));
  broker.session.returnMessage('someone-else');
  broker.session.returnMessage(undefined);
  broker.session.ack(1);
  await expect(receipt.settled).resolves.toBe('confirmed');
  expect(broker.session.published).toHaveLength(1);
});
