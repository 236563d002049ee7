/**
 * The producer options of the ML path: `createProducer`'s own default declares nothing, while the ML
 * workers' queues must exist before a task is published to them, so whatever publishes ML tasks (the
 * service, the Nest module, a library user's own producer for `createMlTasks`) asks for the ML topology
 * here, in one call.
 *
 * ```ts
 * const producer = createProducer(mlProducerOptions({ connection: { url } }));
 * const tasks = createMlTasks(producer);
 * ```
 */
import { DEAD_LETTER_EXCHANGE, ML_TOPOLOGY } from '../amqp/topology.js';
import { defined } from '../defined.js';
import type { ProducerOptions } from '../producer/producer-options.js';

/**
 * `options` with the ML topology declared ({@link ML_TOPOLOGY}) and dead letters sent to its
 * dead-letter exchange, unless `options.topology` says otherwise field by field (a `declare` of
 * `buildTopology({ deadLetterQueueType: 'quorum' })` on a cluster, say).
 */
export function mlProducerOptions(options: ProducerOptions = {}): ProducerOptions {
  return {
    ...options,
    topology: {
      declare: ML_TOPOLOGY,
      deadLetterExchange: DEAD_LETTER_EXCHANGE,
      ...defined(options.topology ?? {}),
    },
  };
}
