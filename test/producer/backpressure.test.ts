import { expect, it } from 'vitest';
import { eventually, ids, startedRig, task } from './helpers.js';

it('after publish() returns false nothing more is written until drain', async () => {
  const { producer, broker } = await startedRig();
  const session = broker.session;
  session.writable = false;
  await producer.publish(task(1));
  expect(session.published).toHaveLength(1);

  const receipts = [];
  for (let n = 2; n <= 4; n += 1) receipts.push(await producer.publish(task(n)));
  // Acks arrive while the socket is full: they must not restart writing either.
  session.ack(1);
  expect(session.published).toHaveLength(1);
  expect(producer.status().messages.buffered).toBe(3);

  session.drain();
  await eventually(() => session.published.length === 4, 'the buffered messages');
  expect(ids(session.published)).toEqual(['m-1', 'm-2', 'm-3', 'm-4']);
  session.ackAll();
  await expect(Promise.all(receipts.map((r) => r.settled))).resolves.toEqual(Array(3).fill('confirmed'));
});

it('the in-flight window bounds unconfirmed messages; acks let the rest through', async () => {
  const { producer, broker } = await startedRig({ publish: { maxInFlight: 2 } });
  const session = broker.session;
  for (let n = 1; n <= 5; n += 1) await producer.publish(task(n));
  expect(session.published).toHaveLength(2);
  expect(producer.status().messages).toMatchObject({ inFlight: 2, buffered: 3 });
  session.ack(1);
  expect(ids(session.published)).toEqual(['m-1', 'm-2', 'm-3']);
  session.ack(3, true);
  expect(ids(session.published)).toEqual(['m-1', 'm-2', 'm-3', 'm-4', 'm-5']);
});
