/**
 * @cloudamqp/amqp-client 4: an `AMQPSession` (the 4.x API that reconnects) and its exchange handle;
 * `publish()` waits for the broker's confirm and defaults to persistent delivery. A publish made
 * while the connection is down rejects at once: the caller owns the retry.
 */
import { AMQPSession } from '@cloudamqp/amqp-client';
import type { BenchMessage } from '../workload.js';
import { awaitEach, type BenchClient, type ClientFactory, CONTENT_TYPE, issueAll } from './client.js';

export const createClient: ClientFactory = async (target, settings) => {
  const session = await AMQPSession.connect(target.url, {
    reconnectInterval: settings.reconnectDelayMs,
    maxReconnectInterval: Math.max(settings.reconnectDelayMs, 1_000),
    logger: null,
  });
  const exchange = await session.exchange(target.exchange, 'direct', { durable: true });
  const confirmed = async (message: BenchMessage): Promise<void> => {
    await exchange.publish(JSON.stringify(message.body), {
      routingKey: target.routingKey,
      messageId: message.id,
      contentType: CONTENT_TYPE as never,
    });
  };
  const client: BenchClient = {
    pipelined: (count, make) => issueAll(count, make, confirmed),
    sequential: (count, make) => awaitEach(count, make, confirmed),
    outstanding: (count, make) => issueAll(count, make, confirmed),
    send: confirmed,
    close: () => session.stop(),
  };
  return client;
};
