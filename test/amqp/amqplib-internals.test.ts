/**
 * The amqplib internals the adapter patches or reads (src/amqp/amqplib-internals.ts), against a real
 * connection to the shared broker: when an amqplib upgrade changes one of their shapes, the adapter
 * quietly falls back to amqplib's public behaviour (slower, or a close instead of a destroy), and this
 * test is what says so.
 */
import { connect } from 'amqplib';
import { expect, it } from 'vitest';
import { internalsFound, writeEachPassAtOnce, writeQueueOf } from '../../src/amqp/amqplib-internals.js';
import { BROKER_URL } from './helpers.js';

it('finds every amqplib internal the adapter relies on, and corks the muxer passes', async () => {
  const model = await connect(BROKER_URL);
  try {
    const channel = await model.createConfirmChannel();
    expect(internalsFound(model, channel)).toEqual({
      socket: true,
      muxerPass: true,
      writeQueue: true,
      basePublish: true,
      sendMessage: true,
    });
    expect(writeEachPassAtOnce(model)).toBe(true);
    // A publish still goes through the corked pass and is confirmed.
    channel.publish('', 'ferry-internals-nowhere', Buffer.from('x'));
    await channel.waitForConfirms();
    const queue = writeQueueOf(channel);
    expect(queue?.readableEnded).toBe(false);
    await channel.close();
  } finally {
    await model.close();
  }
});
