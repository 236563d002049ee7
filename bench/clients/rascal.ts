/**
 * rascal 21 with its default configuration (`withDefaultConfig`): confirmed, persistent, mandatory
 * publications through a pool of confirm channels. `publish()` resolves with a publication session
 * that emits `success` on the confirm. Only the reconnect delay is tuned.
 */
import rascal, { type PublicationSession } from 'rascal';
import type { BenchMessage } from '../workload.js';
import { awaitEach, type BenchClient, type ClientFactory, issueAll } from './client.js';

function outcome(session: PublicationSession): Promise<void> {
  return new Promise((resolve, reject) => {
    // `on`, not `once`: a session can emit `error` more than once (a timeout, then the channel's loss),
    // and an `error` nobody listens to would crash the process.
    session.on('success', () => resolve());
    session.on('error', (error: unknown) => reject(error));
  });
}

export const createClient: ClientFactory = async (target, settings) => {
  const broker = await rascal.BrokerAsPromised.create(
    rascal.withDefaultConfig({
      vhosts: {
        '/': {
          connection: {
            url: target.url,
            retry: { min: settings.reconnectDelayMs, max: 1_000, factor: 2, strategy: 'exponential' },
          },
          exchanges: { [target.exchange]: { assert: false, check: true } },
          publications: { bench: { exchange: target.exchange, routingKey: target.routingKey } },
        },
      },
    }),
  );
  broker.on('error', () => undefined);
  const confirmed = async (message: BenchMessage): Promise<void> =>
    outcome(await broker.publish('bench', message.body, { options: { messageId: message.id } }));
  const client: BenchClient = {
    pipelined: (count, make) => issueAll(count, make, confirmed),
    sequential: (count, make) => awaitEach(count, make, confirmed),
    outstanding: (count, make) => issueAll(count, make, confirmed),
    send: confirmed,
    close: () => broker.shutdown(),
  };
  return client;
};
