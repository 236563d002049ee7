/**
 * The cluster suite's shared parts: one throwaway three-node cluster per test file, ML-style topologies
 * with unique names whose queues (the dead-letter queue too) are quorum queues over all three nodes,
 * and seeds that make ferry's failover start on a chosen node.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { firstRotation } from '../../src/amqp/node-rotation.js';
import { buildTopology, ML_QUEUES } from '../../src/amqp/topology.js';
import type { PublishRequest } from '../../src/producer/publish-request.js';
import type { Settlement } from '../../src/producer/receipt.js';
import { type TestTopology, withChannel } from '../integration/support/broker-objects.js';
import { message } from '../integration/support/producer.js';
import { startThrowawayCluster, type ThrowawayCluster } from '../support/cluster.js';

/**
 * Three nodes booting at once take 20–90 s here, longer while other test files start nodes too; the
 * start-up gives up with its own error (which says why) at 200 s, before this.
 */
const START_TIMEOUT_MS = 240_000;

/**
 * Starts a cluster before the file's tests and stops every node after them, whether they passed or
 * not, and also when the start-up outlived `beforeAll` (its nodes are stopped once it settles).
 */
export function useThrowawayCluster(name: string): { current(): ThrowawayCluster } {
  let cluster: ThrowawayCluster | undefined;
  let starting: Promise<ThrowawayCluster> | undefined;
  beforeAll(async () => {
    starting = startThrowawayCluster({ name });
    cluster = await starting;
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    const started = await starting?.catch(() => undefined);
    await started?.stop();
  }, START_TIMEOUT_MS);
  return {
    current: () => {
      if (cluster === undefined) throw new Error('the throwaway cluster did not start');
      return cluster;
    },
  };
}

/** One scenario's objects: the five ML queues under unique names, all quorum queues. */
export interface ClusterTopology extends TestTopology {
  /** The five work queues, each bound with its own name as the routing key. */
  readonly queues: readonly string[];
  /** Every queue declared as a quorum queue (the work queues and the dead-letter queue): its Raft groups. */
  readonly quorumQueues: readonly string[];
}

/**
 * Fresh names for `label`. The dead-letter queue is a quorum queue here too (`deadLetterQueueType`,
 * as docs/scaling.md advises for a cluster): a classic queue lives on one node, and while that node is
 * down its declaration fails, which would stop ferry's reconnect, and so do dead-letter hand-offs.
 */
export function clusterTopology(label: string): ClusterTopology {
  const base = `ferry-cluster-${label}-${randomBytes(4).toString('hex')}`;
  const queues = ML_QUEUES.map((queue) => `${base}.${queue}`);
  const deadLetterQueue = `${base}.dlq`;
  const topology = buildTopology({
    exchange: `${base}.x`,
    queues,
    deadLetterExchange: `${base}.dlx`,
    deadLetterQueue,
    deadLetterQueueType: 'quorum',
  });
  return {
    exchange: `${base}.x`,
    queue: queues[0]!,
    queues,
    quorumQueues: topology.queues
      .filter((queue) => queue.arguments?.['x-queue-type'] === 'quorum')
      .map((queue) => queue.name),
    deadLetterExchange: `${base}.dlx`,
    deadLetterQueue,
    topology,
    producerOptions: {
      topology: { declare: topology, deadLetterExchange: `${base}.dlx` },
      connection: { healthCheckExchange: `${base}.x` },
    },
  };
}

/** Message `n` of a scenario, to the five queues in turn, as a service spreads its task types. */
export function clusterMessage(names: ClusterTopology, scenario: string, n: number): PublishRequest {
  return message(names.exchange, names.queues[n % names.queues.length]!, scenario, n);
}

/**
 * The queue {@link clusterMessage} sent the message with id `id` of `scenario` to (its `n` modulo the
 * queues), or `undefined` for an id of another shape.
 */
export function queueOfId(queues: readonly string[], scenario: string, id: string): string | undefined {
  if (!id.startsWith(`${scenario}-`)) return undefined;
  return queues[Number(id.slice(scenario.length + 1)) % queues.length];
}

/**
 * For each of `queues`, the ids whose receipt settled as `settlement` and that {@link queueOfId} sends
 * there; a queue outside `queues` (the dead-letter queue) gets every such id.
 */
export function idsSettledAs(
  outcomes: ReadonlyMap<string, Settlement | 'unsettled'>,
  settlement: Settlement,
  queues: readonly string[],
  scenario: string,
): (queue: string) => ReadonlySet<string> {
  const settledAs = [...outcomes].filter(([, outcome]) => outcome === settlement).map(([id]) => id);
  return (queue) =>
    new Set(
      queues.includes(queue)
        ? settledAs.filter((id) => queueOfId(queues, scenario, id) === queue)
        : settledAs,
    );
}

/**
 * Declares the topology through `url`. RabbitMQ places a new quorum queue's leader on the node the
 * declaring client is connected to, so this decides which node leads the scenario's queues.
 */
export function declareThrough(url: string, names: ClusterTopology): Promise<void> {
  return withChannel(url, async (channel) => {
    for (const exchange of names.topology.exchanges) {
      await channel.assertExchange(exchange.name, exchange.type, { durable: exchange.durable });
    }
    for (const queue of names.topology.queues) {
      await channel.assertQueue(queue.name, { durable: queue.durable, arguments: { ...queue.arguments } });
    }
    for (const binding of names.topology.bindings) {
      await channel.bindQueue(binding.queue, binding.exchange, binding.routingKey);
    }
  });
}

/**
 * Deletes a scenario's queues and exchanges through `url`. The drain leaves every message in its queue
 * (drain.ts), and a quorum queue keeps its whole Raft log while it holds messages: left in place, a
 * scenario's thousands would be recovered again by every later node restart of the file.
 */
export function deleteTopology(url: string, names: ClusterTopology): Promise<void> {
  return withChannel(url, async (channel) => {
    for (const queue of names.topology.queues) await channel.deleteQueue(queue.name);
    for (const exchange of names.topology.exchanges) await channel.deleteExchange(exchange.name);
  });
}

/**
 * The first seed from `seed` on whose failover round over the cluster's nodes starts on node `index`:
 * the scenario then knows where ferry connects first, and the seed still comes from the run's seed.
 */
export function seedStartingOn(seed: number, index: number, nodes: number): number {
  for (let candidate = seed; ; candidate += 1) {
    if (firstRotation(nodes, candidate).next === index) return candidate;
  }
}
