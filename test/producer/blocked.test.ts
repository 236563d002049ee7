import { expect, it } from 'vitest';
import type { Actor } from 'xstate';
import type { messageMachine } from '../../machines/message.machine.js';
import { eventually, ids, startedRig, task } from './helpers.js';

it('while the broker blocks the connection nothing is written, publishing is still accepted', async () => {
  const { producer, broker } = await startedRig();
  const states: string[] = [];
  const subscription = producer.state$.subscribe((summary) => states.push(summary.connection));
  const session = broker.session;
  const before = await producer.publish(task(1));

  session.block('low on memory');
  expect(producer.status().connection).toMatchObject({ phase: 'blocked', blockedReason: 'low on memory' });
  expect(states.at(-1)).toBe('blocked');
  const during = [];
  for (let n = 2; n <= 4; n += 1) during.push(await producer.publish(task(n)));
  // The one before the alarm may still be confirmed.
  session.ack(1);
  await expect(before.settled).resolves.toBe('confirmed');
  expect(session.published).toHaveLength(1);
  expect(producer.status().messages).toMatchObject({ accepted: 4, buffered: 3 });

  session.unblock();
  await eventually(() => session.published.length === 4, 'the buffered messages to go out');
  expect(ids(session.published)).toEqual(['m-1', 'm-2', 'm-3', 'm-4']);
  expect(producer.status().connection).toMatchObject({ phase: 'connected', blockedReason: null });
  session.ackAll();
  await expect(Promise.all(during.map((r) => r.settled))).resolves.toEqual(Array(3).fill('confirmed'));
  subscription.unsubscribe();
  expect(states.at(-1)).toBe('connected');
});

it('a retry that comes due while blocked waits for the unblock', async () => {
  const { producer, broker } = await startedRig();
  const session = broker.session;
  const receipt = await producer.publish(task(1));
  session.block();
  session.nack(1);
  await eventually(() => producer.status().messages.retrying === 1, 'the message to be retrying');
  // Past its retry delay the actor waits for the gate instead of publishing.
  await eventually(() => {
    const actor = producer.supervisor.getSnapshot().children['msg:m-1'];
    return actor?.getSnapshot().value === 'waiting';
  }, 'the retry to wait for the gate');
  expect(session.published).toHaveLength(1);
  session.unblock();
  await eventually(() => session.published.length === 2, 'the retry');
  session.ack(2);
  await expect(receipt.settled).resolves.toBe('confirmed');
});

type MessageActor = Actor<typeof messageMachine>;

it('a retried message awaiting its confirm is not timed out while blocked', async () => {
  const confirmTimeoutMs = 50;
  const { producer, broker } = await startedRig({ publish: { confirmTimeoutMs: confirmTimeoutMs } });
  const session = broker.session;
  const receipt = await producer.publish(task(1));
  session.nack(1);
  const actor = () =>
    (producer.supervisor.getSnapshot().children['msg:m-1'] as MessageActor | undefined)?.getSnapshot();
  await eventually(() => actor()?.matches('awaitingConfirm') === true, 'the retry to await its confirm');
  expect(session.published).toHaveLength(2);
  const { attempts } = actor()!.context;

  session.block();
  const blockedAt = Date.now();
  // An observation window, not a synchronisation: nothing must happen for four confirm timeouts.
  await eventually(
    () => !actor()!.matches('awaitingConfirm') || Date.now() - blockedAt > 4 * confirmTimeoutMs,
    'four confirm timeouts into the block',
  );
  expect(actor()!.value).toEqual({ awaitingConfirm: 'blocked' });
  expect(actor()!.context.attempts).toBe(attempts);
  expect(producer.status().circuitBreaker.state).toBe('closed');

  session.unblock();
  session.ack(2);
  await expect(receipt.settled).resolves.toBe('confirmed');
  // The nacked publish and its one retry: the block caused no republish.
  expect(session.publishesOf('m-1')).toHaveLength(2);
});
