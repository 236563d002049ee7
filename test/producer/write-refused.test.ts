import { expect, it } from 'vitest';
import { DEAD_LETTER_EXCHANGE } from '../../src/amqp/topology.js';
import { FerryError } from '../../src/errors.js';
import { eventually, ids, outcomes, startedRig, task } from './helpers.js';

it('a message the client cannot encode is parked and does not stall the messages behind it', async () => {
  const { producer, broker, journal } = await startedRig();
  const session = broker.session;
  // What the amqplib adapter throws for a header value it cannot encode: nothing was sent.
  session.refusePublish = ({ properties }) =>
    properties.headers?.poison === undefined
      ? undefined
      : new FerryError('INVALID_MESSAGE', 'Unknown type to encode: bigint');
  broker.responder = () => 'ack';

  await producer.publish(task(1, { headers: { poison: 1 } }));
  const healthy = await producer.publishMany([task(2), task(3)]);
  await expect(outcomes(healthy, 2_000)).resolves.toEqual(['confirmed', 'confirmed']);
  expect(ids(session.published)).toEqual(['m-2', 'm-3']);

  // It can never be sent, not even to the dead-letter exchange: it stays journaled and parked, in view.
  await eventually(() => producer.status().messages.parked === 1, 'the message to be parked');
  expect(producer.status().messages).toMatchObject({ buffered: 0, retrying: 0, parked: 1, confirmed: 2 });
  expect(journal.pendingCount()).toBe(1);
  expect(session.published.some((p) => p.exchange === DEAD_LETTER_EXCHANGE)).toBe(false);
  expect(producer.status().circuitBreaker.consecutiveFailures).toBe(0);
});

it('a write that fails because the channel is going away waits for the channel', async () => {
  const { producer, broker } = await startedRig();
  const session = broker.session;
  session.refusePublish = () => new FerryError('CHANNEL_LOST', 'Channel closed');
  const receipt = await producer.publish(task(1));
  expect(session.published).toHaveLength(0);
  expect(producer.status().messages.buffered).toBe(1);

  session.refusePublish = null;
  session.closeChannel(new FerryError('CHANNEL_LOST', 'Channel closed'));
  await eventually(() => session.published.length === 1, 'the publish on the reopened channel');
  expect(session.published[0]).toMatchObject({ channel: 2, tag: 1 });
  session.ackAll();
  await expect(receipt.settled).resolves.toBe('confirmed');
});
