/**
 * Declares a {@link Topology} through amqplib, turning the broker's refusals into errors that name the
 * object: a 406 on a declaration means the object exists with other arguments (`TOPOLOGY_MISMATCH`,
 * fatal), not something a retry can fix.
 *
 * @internal
 */
import type { Channel } from 'amqplib';
import { FerryError } from '../errors.js';
import { fromAmqplib } from './amqplib-errors.js';
import type { Topology } from './topology.js';

/**
 * Declares exchanges, then queues, then bindings, stopping at the first failure. `channel` is asked
 * for a channel before each step because a failed declaration closes the one it was made on.
 */
export async function declareTopology(channel: () => Promise<Channel>, topology: Topology): Promise<void> {
  for (const exchange of topology.exchanges) {
    await step('exchange', exchange.name, async () => {
      await (await channel()).assertExchange(exchange.name, exchange.type, {
        durable: exchange.durable,
        autoDelete: exchange.autoDelete ?? false,
        arguments: exchange.arguments,
      });
    });
  }
  for (const queue of topology.queues) {
    await step('queue', queue.name, async () => {
      await (await channel()).assertQueue(queue.name, {
        durable: queue.durable,
        autoDelete: queue.autoDelete ?? false,
        exclusive: false,
        arguments: queue.arguments,
      });
    });
  }
  for (const binding of topology.bindings) {
    const name = `${binding.exchange} → ${binding.queue} (${binding.routingKey})`;
    await step('binding', name, async () => {
      await (await channel()).bindQueue(
        binding.queue,
        binding.exchange,
        binding.routingKey,
        binding.arguments,
      );
    });
  }
}

type ObjectKind = 'exchange' | 'queue' | 'binding';

async function step(kind: ObjectKind, name: string, declare: () => Promise<void>): Promise<void> {
  try {
    await declare();
  } catch (error) {
    throw declarationFailure(kind, name, error);
  }
}

/** The error of one failed declaration, naming the object; any 406 here is a topology mismatch. */
export function declarationFailure(kind: ObjectKind, name: string, error: unknown): FerryError {
  const failure = fromAmqplib(error, 'CHANNEL_LOST');
  const mismatch = failure.code === 'TOPOLOGY_MISMATCH' || failure.details?.replyCode === 406;
  const message = mismatch
    ? `${kind} '${name}' already exists with other arguments or properties: ${failure.message}`
    : `declaring ${kind} '${name}' failed: ${failure.message}`;
  return new FerryError(mismatch ? 'TOPOLOGY_MISMATCH' : failure.code, message, {
    cause: error,
    details: { ...failure.details, kind, name },
  });
}
