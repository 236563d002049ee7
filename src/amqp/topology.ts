/**
 * The broker objects ferry publishes into, as plain data: the ML task exchange and the quorum queues
 * the Celery workers consume, plus ferry's own dead-letter exchange and queue.
 *
 * The workers declare the same queues; a declaration with other arguments fails with 406 on whichever
 * side comes second, so the defaults carry exactly the workers' arguments.
 */

import { FerryError } from '../errors.js';

/** A table of AMQP arguments (`x-queue-type`, `x-delivery-limit`, …). */
export type AmqpArguments = Readonly<Record<string, string | number | boolean>>;

/** An exchange to declare. */
export interface ExchangeSpec {
  readonly name: string;
  readonly type: 'direct' | 'topic' | 'fanout' | 'headers';
  readonly durable: boolean;
  readonly autoDelete?: boolean;
  readonly arguments?: AmqpArguments;
}

/** A queue to declare. */
export interface QueueSpec {
  readonly name: string;
  readonly durable: boolean;
  readonly autoDelete?: boolean;
  readonly arguments?: AmqpArguments;
}

/** A queue binding to declare. */
export interface BindingSpec {
  readonly queue: string;
  readonly exchange: string;
  readonly routingKey: string;
  readonly arguments?: AmqpArguments;
}

/** Everything to declare on connect, in this order: exchanges, queues, bindings. */
export interface Topology {
  readonly exchanges: readonly ExchangeSpec[];
  readonly queues: readonly QueueSpec[];
  readonly bindings: readonly BindingSpec[];
}

/** The ML task exchange. */
export const ML_EXCHANGE = 'bookmarkai.ml';
/** ferry's dead-letter exchange: a separate object from anything the workers declare. */
export const DEAD_LETTER_EXCHANGE = 'bookmarkai.ml.dlx';
/** ferry's dead-letter queue, bound to {@link DEAD_LETTER_EXCHANGE} with `#`. */
export const DEAD_LETTER_QUEUE = 'bookmarkai.ml.dead-letter';
/** The worker queues; each is bound with its own name as the routing key. */
export const ML_QUEUES = [
  'ml.summarize',
  'ml.summarize_local',
  'ml.transcribe',
  'ml.transcribe_local',
  'ml.embed',
] as const;
/** Exactly the arguments the workers declare their queues with. */
export const ML_QUEUE_ARGUMENTS: AmqpArguments = { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 };

/** The kinds of queue ferry's dead-letter queue can be; see {@link TopologyOptions.deadLetterQueueType}. */
export const DEAD_LETTER_QUEUE_TYPES = ['classic', 'quorum'] as const;
/** One of {@link DEAD_LETTER_QUEUE_TYPES}. */
export type DeadLetterQueueType = (typeof DEAD_LETTER_QUEUE_TYPES)[number];

/** What {@link buildTopology} lets you change; everything left out keeps the ML topology's. */
export interface TopologyOptions {
  readonly exchange?: string;
  readonly queues?: readonly string[];
  /** Replaces (does not merge with) {@link ML_QUEUE_ARGUMENTS}: they must equal the workers' own. */
  readonly queueArguments?: AmqpArguments;
  readonly deadLetterExchange?: string;
  readonly deadLetterQueue?: string;
  /**
   * `'classic'` (the default) keeps the dead-letter queue on one node: while that node is down on a
   * cluster, ferry's dead-letter hand-offs fail and the messages wait, parked, until it is back.
   * `'quorum'` replicates it like the ML queues, so a hand-off goes on while a majority of nodes
   * runs: use it on a cluster. A broker refuses (406) a type other than that of the queue it already
   * has, so switching an existing deployment means draining and deleting the old queue first.
   */
  readonly deadLetterQueueType?: DeadLetterQueueType;
}

/** A topology of the ML shape: {@link ML_TOPOLOGY} with `options` changed. */
export function buildTopology(options: TopologyOptions = {}): Topology {
  const exchange = options.exchange ?? ML_EXCHANGE;
  const queues = options.queues ?? ML_QUEUES;
  const queueArguments = options.queueArguments ?? ML_QUEUE_ARGUMENTS;
  const deadLetterExchange = options.deadLetterExchange ?? DEAD_LETTER_EXCHANGE;
  const deadLetterQueue = options.deadLetterQueue ?? DEAD_LETTER_QUEUE;
  const deadLetterQueueType = options.deadLetterQueueType ?? 'classic';
  if (!DEAD_LETTER_QUEUE_TYPES.includes(deadLetterQueueType)) {
    const problem = `deadLetterQueueType: must be 'classic' or 'quorum', not ${JSON.stringify(deadLetterQueueType)}`;
    throw new FerryError('INVALID_OPTIONS', problem, { details: { problems: [problem] } });
  }
  return {
    exchanges: [
      { name: exchange, type: 'topic', durable: true },
      { name: deadLetterExchange, type: 'topic', durable: true },
    ],
    queues: [
      ...queues.map((name) => ({ name, durable: true, arguments: queueArguments })),
      deadLetterQueueType === 'quorum'
        ? { name: deadLetterQueue, durable: true, arguments: { 'x-queue-type': 'quorum' } }
        : { name: deadLetterQueue, durable: true },
    ],
    bindings: [
      ...queues.map((name) => ({ queue: name, exchange, routingKey: name })),
      { queue: deadLetterQueue, exchange: deadLetterExchange, routingKey: '#' },
    ],
  };
}

/**
 * The ML service's topology, unchanged: the `bookmarkai.ml` exchange, the `ml.*` quorum queues and
 * ferry's dead-letter exchange and queue. Not `createProducer`'s default (that declares nothing): the
 * service, the Nest module and `mlProducerOptions()` of `ferry/tasks` ask for it by name.
 */
export const ML_TOPOLOGY: Topology = buildTopology();

/**
 * `topology` plus an alternate exchange (fanout) and the queue bound to it, where a policy sends what
 * the task exchange cannot route. The link itself is the policy's: an `alternate-exchange` argument
 * would make the workers' own declaration of the exchange, without it, fail with 406.
 */
export function withAlternateExchange(
  topology: Topology,
  unroutable: { readonly alternateExchange: string; readonly queue: string },
): Topology {
  return {
    exchanges: [...topology.exchanges, { name: unroutable.alternateExchange, type: 'fanout', durable: true }],
    queues: [...topology.queues, { name: unroutable.queue, durable: true }],
    bindings: [
      ...topology.bindings,
      { queue: unroutable.queue, exchange: unroutable.alternateExchange, routingKey: '' },
    ],
  };
}
