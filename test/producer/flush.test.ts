import { expect, it } from 'vitest';
import { DEAD_LETTER_EXCHANGE } from '../../src/amqp/topology.js';
import { eventually, rejection, rig, startedRig, task } from './helpers.js';

/** Records when a flush resolves, so a test can check it has not yet. */
function watch(flush: Promise<boolean>): { readonly result: () => boolean | undefined } {
  let result: boolean | undefined;
  void flush.then((value) => {
    result = value;
  });
  return { result: () => result };
}

it('resolves true at once when nothing is held', async () => {
  const { producer } = await startedRig();
  await expect(producer.flush()).resolves.toBe(true);
});

it('waits for every confirm, those of messages accepted while it waits included', async () => {
  const { producer, broker } = await startedRig();
  await producer.publishMany([task(1), task(2)]);
  const session = broker.session;
  const flush = watch(producer.flush());

  session.ack(1);
  await producer.publish(task(3));
  session.ack(2);
  await eventually(() => session.published.length === 3, 'the third publish');
  expect(flush.result()).toBeUndefined();

  session.ack(3);
  await eventually(() => flush.result() === true, 'the flush');
  expect(producer.status().messages).toMatchObject({ confirmed: 3, inFlight: 0 });
});

it('counts a message still being accepted: a publish not yet awaited', async () => {
  const { producer, broker } = await startedRig();
  const accepting = producer.publish(task(1));
  const flush = watch(producer.flush());
  await accepting;
  await eventually(() => broker.session.published.length === 1, 'the publish');
  expect(flush.result()).toBeUndefined();
  broker.session.ack(1);
  await eventually(() => flush.result() === true, 'the flush');
});

it('waits through retries until the message is dead-lettered', async () => {
  const { producer, broker } = await startedRig({ retry: { maxAttempts: 2 } });
  await producer.publish(task(1));
  const session = broker.session;
  const flush = watch(producer.flush());
  session.nack(1);
  await eventually(() => session.publishesOf('m-1').length === 2, 'the retry');
  expect(flush.result()).toBeUndefined();
  session.nack(2);
  await eventually(
    () => session.publishesOf('m-1').some((p) => p.exchange === DEAD_LETTER_EXCHANGE),
    'the dead-letter publish',
  );
  expect(flush.result()).toBeUndefined();
  session.ackAll();
  await eventually(() => flush.result() === true, 'the flush');
  expect(producer.status().messages).toMatchObject({ deadLettered: 1, retrying: 0 });
});

it('resolves false after its timeout, and the message goes on', async () => {
  const { producer, broker } = await startedRig();
  const receipt = await producer.publish(task(1));
  await expect(producer.flush({ timeoutMs: 10 })).resolves.toBe(false);
  broker.session.ack(1);
  await expect(receipt.settled).resolves.toBe('confirmed');
  await expect(producer.flush({ timeoutMs: 10 })).resolves.toBe(true);
});

it('resolves false when the producer closes first', async () => {
  const { producer } = rig();
  await producer.publish(task(1));
  const flush = producer.flush();
  await producer.close({ timeoutMs: 0 });
  await expect(flush).resolves.toBe(false);
  await expect(producer.flush()).resolves.toBe(false);
});

it('refuses a timeout that is not a non-negative number', async () => {
  const { producer } = await startedRig();
  for (const timeoutMs of [-1, Number.NaN, '5' as unknown as number]) {
    expect((await rejection(producer.flush({ timeoutMs }))).code).toBe('INVALID_OPTIONS');
  }
});
