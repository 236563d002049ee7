import { expect, it } from 'vitest';
import type { ConnectionPhase } from '../../machines/connection.machine.js';
import { eventually, ids, startedRig, task } from './helpers.js';

it('after a dropped connection, unconfirmed messages are republished first, in order, with the same ids', async () => {
  const { producer, broker, journal } = await startedRig();
  const phases: ConnectionPhase[] = [];
  const subscription = producer.state$.subscribe((summary) => {
    if (phases.at(-1) !== summary.connection) phases.push(summary.connection);
  });
  const receipts = [];
  for (let n = 1; n <= 5; n += 1) receipts.push(await producer.publish(task(n)));
  const first = broker.session;
  first.ack(2, true);

  first.dropConnection();
  expect(producer.status().connection.connected).toBe(false);
  // Accepted while reconnecting: these queue behind the unconfirmed ones.
  for (let n = 6; n <= 7; n += 1) receipts.push(await producer.publish(task(n)));

  await eventually(() => broker.sessions.length === 2 && broker.session.published.length === 5, 'redelivery');
  const second = broker.session;
  expect(second).not.toBe(first);
  expect(ids(second.published)).toEqual(['m-3', 'm-4', 'm-5', 'm-6', 'm-7']);
  expect(second.published.map((p) => p.tag)).toEqual([1, 2, 3, 4, 5]);
  expect(second.published[0]!.content.equals(first.publishesOf('m-3')[0]!.content)).toBe(true);
  expect(producer.status().messages.redelivered).toBe(3);
  expect(producer.status().connection).toMatchObject({ phase: 'connected', reconnects: 1 });

  second.ackAll();
  await expect(Promise.all(receipts.map((r) => r.settled))).resolves.toEqual(Array(7).fill('confirmed'));
  expect(journal.pendingCount()).toBe(0);
  expect(producer.status().messages).toMatchObject({ accepted: 7, confirmed: 7, retrying: 0 });
  // Healthy messages lost with their connection do not use up attempts: no message actors.
  expect(producer.supervisor.getSnapshot().context.liveMessages).toBe(0);

  subscription.unsubscribe();
  expect(phases).toEqual(['connected', 'reconnecting', 'connecting', 'connected']);
});

it('a retrying message in flight when the connection drops is republished after reconnecting', async () => {
  const { producer, broker } = await startedRig();
  const receipt = await producer.publish(task(1));
  broker.session.nack(1);
  await eventually(() => broker.session.publishesOf('m-1').length === 2, 'the retry');
  broker.session.dropConnection();

  await eventually(
    () => broker.sessions.length === 2 && broker.session.published.length === 1,
    'the republish',
  );
  expect(ids(broker.session.published)).toEqual(['m-1']);
  // The lost connection did not use up an attempt: one nack, one attempt.
  const actor = producer.supervisor.getSnapshot().children['msg:m-1'];
  expect(actor?.getSnapshot().context).toMatchObject({
    attempts: 1,
    lastFailure: { code: 'CONNECTION_LOST' },
  });
  broker.session.ackAll();
  await expect(receipt.settled).resolves.toBe('confirmed');
});
