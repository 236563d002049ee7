/**
 * `status().messages.redelivered`: one count per unknown outcome of a write (its channel or connection
 * died before its confirm, or the confirm timed out), whatever path the write was on, and one per
 * message recovered from the journal. Answered writes never count.
 */
import { expect, it } from 'vitest';
import { DEAD_LETTER_EXCHANGE } from '../../src/amqp/topology.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { createProducer } from '../../src/producer/producer.js';
import { outbound } from '../journal/fixtures.js';
import { FakeBroker } from '../support/fake-broker.js';
import { eventually, FAST, outcomes, startedRig, task } from './helpers.js';

it('counts a retry in flight when the connection drops, once', async () => {
  const { producer, broker } = await startedRig();
  const receipt = await producer.publish(task(1));
  broker.session.nack(1);
  await eventually(() => broker.session.publishesOf('m-1').length === 2, 'the retry');
  // A nack is an answer: the broker does not have the message.
  expect(producer.status().messages.redelivered).toBe(0);

  broker.session.dropConnection();
  expect(producer.status().messages.redelivered).toBe(1);
  await eventually(
    () => broker.sessions.length === 2 && broker.session.publishesOf('m-1').length === 1,
    'the republish',
  );
  broker.session.ackAll();
  await expect(outcomes([receipt])).resolves.toEqual(['confirmed']);
  expect(producer.status().messages.redelivered).toBe(1);
});

it('counts a dead-letter hand-off in flight when the channel closes, once', async () => {
  const { producer, broker } = await startedRig({ retry: { maxAttempts: 1 } });
  const session = broker.session;
  const receipt = await producer.publish(task(1));
  session.nack(1);
  const handOffs = () => session.publishesOf('m-1').filter((p) => p.exchange === DEAD_LETTER_EXCHANGE);
  await eventually(() => handOffs().length === 1, 'the dead-letter hand-off');
  expect(producer.status().messages.redelivered).toBe(0);

  session.closeChannel();
  expect(producer.status().messages.redelivered).toBe(1);
  await eventually(() => handOffs().length === 2, 'the hand-off again on the reopened channel');
  expect(handOffs()[1]!.channel).toBe(2);
  session.ack(handOffs()[1]!.tag);
  await expect(outcomes([receipt])).resolves.toEqual(['dead-lettered']);
  expect(producer.status().messages.redelivered).toBe(1);
});

it('counts a confirm timeout, and not the late ack of the write that timed out', async () => {
  const { producer, broker } = await startedRig({ publish: { confirmTimeoutMs: 50 } });
  const receipt = await producer.publish(task(1));
  const session = broker.session;
  await eventually(() => session.publishesOf('m-1').length === 2, 'the republish');
  expect(producer.status().messages.redelivered).toBe(1);
  session.ack(1);
  session.ack(2);
  await expect(outcomes([receipt])).resolves.toEqual(['confirmed']);
  expect(producer.status().messages.redelivered).toBe(1);
});

it('never counts confirmed messages, nor returned ones, when their channel or connection dies later', async () => {
  const { producer, broker } = await startedRig();
  const first = broker.session;
  const receipts = [];
  for (let n = 1; n <= 4; n += 1) receipts.push(await producer.publish(task(n)));
  first.ack(2, true);
  // m-3 went nowhere: the broker returned it, its ack still to come when the connection dies.
  first.returnMessage('m-3');
  await expect(outcomes(receipts.slice(0, 2))).resolves.toEqual(['confirmed', 'confirmed']);

  first.dropConnection();
  // Only m-4 may be at the broker.
  expect(producer.status().messages.redelivered).toBe(1);
  await eventually(
    () => broker.sessions.length === 2 && broker.session.published.length === 2,
    'the republishes',
  );
  const second = broker.session;
  second.ackAll();
  await expect(outcomes(receipts)).resolves.toEqual(Array(4).fill('confirmed'));

  second.closeChannel();
  await eventually(() => second.channelNumber === 2, 'the channel to be reopened');
  second.dropConnection();
  await eventually(() => producer.status().connection.reconnects === 2, 'the second reconnect');
  expect(producer.status().messages).toMatchObject({ confirmed: 4, redelivered: 1 });
});

it('counts each message recovered from the journal, whose last write has an unknown outcome', async () => {
  const journal = new MemoryJournal();
  journal.append({ type: 'accepted', message: outbound('left-1') });
  journal.append({ type: 'accepted', message: outbound('left-2') });
  await journal.commit();
  const broker = new FakeBroker();
  const producer = createProducer(FAST, { broker, journal });
  try {
    await producer.start();
    expect(producer.status().messages.redelivered).toBe(2);
    await eventually(() => broker.session.published.length === 2, 'the republishes');
    broker.session.ackAll();
    await eventually(() => journal.pendingCount() === 0, 'the confirms');
    expect(producer.status().messages.redelivered).toBe(2);
  } finally {
    await producer.close({ timeoutMs: 0 });
  }
});
