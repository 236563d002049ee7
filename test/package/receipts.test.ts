/**
 * `settled` rejects only when close() finishes before the message settled, and never becomes an
 * unhandled rejection: neither when it was read and left un-awaited, nor when it was never read.
 */
import { expect, it } from 'vitest';
import { FerryError } from '../../src/index.js';
import { rig, task } from '../producer/helpers.js';
import { recordUnhandledRejections, rejectionsReported } from '../support/unhandled-rejections.js';

const unhandled = recordUnhandledRejections();

it('an un-awaited or unread settled of a message the close abandons is no unhandled rejection', async () => {
  const { producer } = rig();
  const read = await producer.publish(task(1));
  const unread = await producer.publish(task(2));
  void read.settled; // read, never awaited
  await producer.close({ timeoutMs: 0 });
  await rejectionsReported();
  expect(unhandled).toEqual([]);
  // Both say CLOSED when asked, the one read before the close and the one read after.
  for (const receipt of [read, unread]) {
    const error = await receipt.settled.then(
      () => null,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('CLOSED');
  }
});

it('a failed start() does not reject settled: the message waits', async () => {
  const { producer, broker } = rig();
  broker.refuse = new FerryError('ACCESS_REFUSED', 'bad credentials');
  const receipt = await producer.publish(task(1));
  let outcome: string | null = null;
  receipt.settled.then(
    (value) => {
      outcome = value;
    },
    (reason: unknown) => {
      outcome = `rejected ${(reason as FerryError).code}`;
    },
  );
  await expect(producer.start()).rejects.toMatchObject({ code: 'ACCESS_REFUSED' });
  await rejectionsReported();
  expect(outcome).toBeNull();
  await producer.close({ timeoutMs: 0 });
  await rejectionsReported();
  expect(outcome).toBe('rejected CLOSED');
  expect(unhandled).toEqual([]);
});
