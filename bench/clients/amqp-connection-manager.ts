/**
 * amqp-connection-manager 5: a ChannelWrapper on a confirm channel with `json: true`; `publish()`
 * resolves on the confirm. It reconnects on its own (`reconnectTimeInSeconds`) and re-sends what was
 * unconfirmed when the connection died.
 */
import amqp from 'amqp-connection-manager';
import type { BenchMessage } from '../workload.js';
import { awaitEach, type BenchClient, type ClientFactory, CONTENT_TYPE, issueAll } from './client.js';

export const createClient: ClientFactory = async (target, settings) => {
  const connection = amqp.connect([target.url], {
    reconnectTimeInSeconds: settings.reconnectDelayMs / 1_000,
  });
  connection.on('connectFailed', () => undefined);
  const channel = connection.createChannel({ json: true, confirm: true });
  channel.on('error', () => undefined);
  await channel.waitForConnect();
  const confirmed = (message: BenchMessage): Promise<unknown> =>
    channel.publish(target.exchange, target.routingKey, message.body, {
      persistent: true,
      contentType: CONTENT_TYPE,
      messageId: message.id,
    });
  const client: BenchClient = {
    pipelined: (count, make) => issueAll(count, make, confirmed),
    sequential: (count, make) => awaitEach(count, make, confirmed),
    outstanding: (count, make) => issueAll(count, make, confirmed),
    send: async (message) => {
      await confirmed(message);
    },
    close: async () => {
      await channel.close();
      await connection.close();
    },
  };
  return client;
};
