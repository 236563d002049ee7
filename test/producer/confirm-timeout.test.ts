import { expect, it } from 'vitest';
import { eventually, startedRig, task } from './helpers.js';

it('a confirm that never arrives is an unknown outcome: republished with the same message id', async () => {
  const { producer, broker, journal } = await startedRig({ publish: { confirmTimeoutMs: 50 } });
  const receipt = await producer.publish(task(1));
  const session = broker.session;
  const sentAt = Date.now();

  await eventually(() => session.publishesOf('m-1').length === 2, 'the republish');
  expect(Date.now() - sentAt).toBeGreaterThanOrEqual(45);
  const [first, again] = session.publishesOf('m-1');
  expect(again!.tag).toBe(2);
  expect(again!.content.equals(first!.content)).toBe(true);
  expect(producer.status().messages.retrying).toBe(1);

  let settlements = 0;
  void receipt.settled.then(() => {
    settlements += 1;
  });
  // The old tag's ack comes late: it is ignored, neither an error nor a second settlement.
  session.ack(1);
  expect(producer.status().messages.confirmed).toBe(0);
  session.ack(2);
  await expect(receipt.settled).resolves.toBe('confirmed');
  session.ack(1);
  session.ack(2, true);

  expect(producer.status().messages).toMatchObject({ confirmed: 1, retrying: 0, accepted: 1 });
  expect(settlements).toBe(1);
  expect(journal.pendingCount()).toBe(0);
  expect(session.published).toHaveLength(2);
});

it('a late ack of the first publish does not confirm the message twice', async () => {
  const { producer, broker } = await startedRig({ publish: { confirmTimeoutMs: 50 } });
  const receipt = await producer.publish(task(1));
  const session = broker.session;
  await eventually(() => session.publishesOf('m-1').length === 2, 'the republish');
  session.ack(2, true);
  await expect(receipt.settled).resolves.toBe('confirmed');
  const other = await producer.publish(task(2));
  session.ack(1);
  session.ack(3);
  await expect(other.settled).resolves.toBe('confirmed');
  expect(producer.status().messages.confirmed).toBe(2);
});
