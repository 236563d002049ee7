import { afterEach, expect, it } from 'vitest';
import { ML_TOPOLOGY } from '../../src/amqp/topology.js';
import { FerryError } from '../../src/errors.js';
import { eventually, startedRig, task } from './helpers.js';

const warnings: Error[] = [];
const onWarning = (warning: Error): void => {
  if (warning.name === 'FerryTopologyWarning') warnings.push(warning);
};
process.on('warning', onWarning);
afterEach(() => {
  warnings.length = 0;
});

it('a burst of unroutable returns declares the topology again, once', async () => {
  const { producer, broker } = await startedRig({
    topology: { declare: ML_TOPOLOGY },
    retry: { maxAttempts: 1 },
  });
  const session = broker.session;
  expect(session.declared).toEqual([ML_TOPOLOGY]);
  const receipts = [];
  for (let n = 1; n <= 5; n += 1) receipts.push(await producer.publish(task(n)));

  for (let n = 1; n <= 5; n += 1) session.returnMessage(`m-${n}`, 312, 'NO_ROUTE');
  session.ack(5, true);
  await eventually(() => session.published.length === 10, 'five dead-letter publishes');
  session.ackAll();
  await Promise.all(receipts.map((receipt) => receipt.settled));
  expect(session.declared).toEqual([ML_TOPOLOGY, ML_TOPOLOGY]);
});

it('a return for another reason, or with topology: false, declares nothing', async () => {
  const owned = await startedRig({ topology: { declare: ML_TOPOLOGY } });
  await owned.producer.publish(task(1));
  owned.broker.session.returnMessage('m-1', 313, 'NO_CONSUMERS');
  const userOwned = await startedRig({ topology: { declare: false } });
  await userOwned.producer.publish(task(2));
  userOwned.broker.session.returnMessage('m-2', 312, 'NO_ROUTE');
  owned.broker.session.ackAll();
  userOwned.broker.session.ackAll();
  await eventually(() => owned.broker.session.publishesOf('m-1').length === 2, 'the retry of m-1');
  await eventually(() => userOwned.broker.session.publishesOf('m-2').length === 2, 'the retry of m-2');
  expect(owned.broker.session.declared).toHaveLength(1);
  expect(userOwned.broker.session.declared).toHaveLength(0);
});

it('a 404 closing the channel declares the topology before the channel is reopened', async () => {
  const { producer, broker } = await startedRig({ topology: { declare: ML_TOPOLOGY } });
  const session = broker.session;
  let finishDeclare = (): void => undefined;
  session.declaration = () =>
    new Promise((resolve) => {
      finishDeclare = resolve;
    });
  const receipt = await producer.publish(task(1));

  session.closeChannel(new FerryError('NOT_FOUND', "NOT_FOUND - no exchange 'tasks'"));
  expect(session.declared).toHaveLength(2);
  // Still the first channel while the declaration runs; the message waits for the next one.
  await new Promise((resolve) => setImmediate(resolve));
  expect(session.channelNumber).toBe(1);

  finishDeclare();
  await eventually(() => session.publishesOf('m-1').some((p) => p.channel === 2), 'the republish');
  session.ackAll();
  await expect(receipt.settled).resolves.toBe('confirmed');
});

it('a failed re-declaration is a warning: the channel is reopened and the message goes on', async () => {
  const { producer, broker } = await startedRig({ topology: { declare: ML_TOPOLOGY } });
  const session = broker.session;
  session.declaration = () => Promise.reject(new FerryError('CHANNEL_LOST', 'rpc channel closed'));
  const receipt = await producer.publish(task(1));

  session.closeChannel();
  await eventually(() => session.publishesOf('m-1').some((p) => p.channel === 2), 'the republish');
  session.ackAll();
  await expect(receipt.settled).resolves.toBe('confirmed');
  await eventually(() => warnings.length === 1, 'the warning');
  expect(warnings[0]).toMatchObject({ code: 'CHANNEL_LOST' });
});
