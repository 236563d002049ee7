/**
 * rabbitmq-client 5: a Publisher with `confirm: true`; `send()` JSON-encodes the body and resolves on
 * the confirm. The connection reconnects with its own backoff (`retryLow`/`retryHigh`); the publisher
 * keeps its default `maxAttempts: 1`, so a publish caught by a closed connection is rejected.
 */
import { Connection } from 'rabbitmq-client';
import type { BenchMessage } from '../workload.js';
import { awaitEach, type BenchClient, type ClientFactory, CONTENT_TYPE, issueAll } from './client.js';

export const createClient: ClientFactory = async (target, settings) => {
  const rabbit = new Connection({
    url: target.url,
    retryLow: settings.reconnectDelayMs,
    retryHigh: Math.max(settings.reconnectDelayMs, 1_000),
  });
  rabbit.on('error', () => undefined);
  await rabbit.onConnect(10_000);
  const publisher = rabbit.createPublisher({ confirm: true });
  const confirmed = (message: BenchMessage): Promise<void> =>
    publisher.send(
      {
        exchange: target.exchange,
        routingKey: target.routingKey,
        durable: true,
        contentType: CONTENT_TYPE,
        messageId: message.id,
      },
      message.body,
    );
  const client: BenchClient = {
    pipelined: (count, make) => issueAll(count, make, confirmed),
    sequential: (count, make) => awaitEach(count, make, confirmed),
    outstanding: (count, make) => issueAll(count, make, confirmed),
    send: confirmed,
    close: async () => {
      await publisher.close();
      await rabbit.close();
    },
  };
  return client;
};
