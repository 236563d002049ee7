import { expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { eventually, ids, startedRig, task } from './helpers.js';

it('a closed channel is reopened and its unconfirmed messages retried as CHANNEL_LOST', async () => {
  const { producer, broker, journal } = await startedRig();
  const receipts = [];
  for (let n = 1; n <= 3; n += 1) receipts.push(await producer.publish(task(n)));
  const session = broker.session;
  session.ack(1);
  await expect(receipts[0]!.settled).resolves.toBe('confirmed');

  session.closeChannel(new FerryError('NOT_FOUND', "NOT_FOUND - no exchange 'tasks' in vhost '/'"));
  await eventually(() => session.channelNumber === 2, 'the channel to be reopened');
  await eventually(() => session.published.filter((p) => p.channel === 2).length === 2, 'the retries');

  const reopened = session.published.filter((p) => p.channel === 2);
  expect(reopened.map((p) => p.tag).sort()).toEqual([1, 2]);
  expect(ids(reopened).sort()).toEqual(['m-2', 'm-3']);
  expect(broker.sessions).toHaveLength(1);
  expect(producer.status().connection.phase).toBe('connected');
  expect(journal.pendingCount()).toBe(2);

  // The retries were counted as one failed attempt each, for CHANNEL_LOST.
  const lost = producer.status().messages.retrying;
  expect(lost).toBe(2);
  const child = producer.supervisor.getSnapshot().children['msg:m-2'];
  expect(child?.getSnapshot().context).toMatchObject({ attempts: 1, lastFailure: { code: 'CHANNEL_LOST' } });
  // The failure says why the broker closed the channel (a 404 names the missing exchange).
  expect(child?.getSnapshot().context.lastFailure?.message).toContain("no exchange 'tasks'");

  session.ackAll();
  await expect(Promise.all(receipts.map((r) => r.settled))).resolves.toEqual([
    'confirmed',
    'confirmed',
    'confirmed',
  ]);
  expect(journal.pendingCount()).toBe(0);
});

it('messages accepted while the channel reopens go out on the new channel', async () => {
  const { producer, broker } = await startedRig();
  const session = broker.session;
  session.closeChannel();
  const receipt = await producer.publish(task(7));
  await eventually(() => session.publishesOf('m-7').length === 1, 'the publish on the new channel');
  expect(session.publishesOf('m-7')[0]).toMatchObject({ channel: 2, tag: 1 });
  session.ack(1);
  await expect(receipt.settled).resolves.toBe('confirmed');
});
