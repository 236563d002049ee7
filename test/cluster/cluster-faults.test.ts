/**
 * Node faults on a real three-node RabbitMQ cluster (throwaway nodes, never the shared broker), with
 * the five ML-style queues as quorum queues over all three nodes and ferry given all three URLs. Each
 * scenario is scored like the fault suite (test/faults/support/fault-run.ts): nothing accepted is lost,
 * duplicates only for unknown outcomes, nothing unsettled once the cluster has healed.
 *
 * - `stop_app` on the node ferry is connected to (it also leads the queues: ferry declared them there);
 * - `kill -9` of the node leading the queues while ferry is connected to another one: the queues elect
 *   a new leader and ferry keeps its connection. The dead-letter queue (a quorum queue,
 *   `deadLetterQueueType`) had the same leader: a message that nothing routes, sent once the new
 *   leaders are elected, uses up its attempts and is dead-lettered all the same, before the node is back;
 * - the node ferry publishes through paused with SIGSTOP: heartbeats find the silence and ferry moves
 *   to another node, which it tries before the paused one. Its topology declaration there waits until
 *   the other nodes declare the paused one down (`net_ticktime`, 10 s on these nodes): an exchange or
 *   binding declaration is a cluster-wide write. Resumed, the node finds itself alone and RabbitMQ
 *   restarts on it (`pause_minority`);
 * - a rolling restart (`stop_app`, `start_app`, wait for the queues' members) of all three nodes under
 *   steady load: every accepted message ends in its queue.
 *
 * The cluster starts once for the file. Load is modest (about 400 messages a second at most): three
 * Erlang VMs share the machine's cores with ferry.
 */
import amqp from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import type { RetryOptions } from '../../src/producer/producer-options.js';
import type { PublishRequest } from '../../src/producer/publish-request.js';
import type { Settlement } from '../../src/producer/receipt.js';
import {
  type FaultProducer,
  faultProducer,
  faultSeed,
  runFault,
  SOAK,
  scenarioRandom,
} from '../faults/support/fault-run.js';
import type { QueuePlacement, ThrowawayCluster } from '../support/cluster.js';
import { mergeOptions } from '../support/merge-options.js';
import { drainQuorumQueues, settled } from './drain.js';
import { explainClusterLoss, keepNodeLogs } from './loss-evidence.js';
import { ROLLING_RESTART_RETRY } from './rolling-restart-retry.js';
import {
  type ClusterTopology,
  clusterMessage,
  clusterTopology,
  declareThrough,
  deleteTopology,
  idsSettledAs,
  seedStartingOn,
  useThrowawayCluster,
} from './support.js';

const seed = faultSeed('cluster');
const MESSAGES = SOAK ? 10_000 : 2_000;
/** Two messages per 5 ms tick: at most about 400 a second. */
const PER_TICK = 2;
/** Each scenario's bound, with room for a node's restart on a loaded machine. */
const SCENARIO_TIMEOUT_MS = 240_000;
const NODES = 3;
const cluster = useThrowawayCluster('ferry-cluster');

/** The running scenario's objects, deleted after it. */
let scenarioNames: ClusterTopology | undefined;

// A scenario that failed half-way may leave a node paused, killed or stopped. Its queues go once the
// nodes are back, its verdict and any loss account (which reads them again) already made.
afterEach(async ({ task }) => {
  const nodes = cluster.current();
  // A scenario that failed before any loss account (a node that did not come back) keeps the logs too.
  if (task.result?.state === 'fail') {
    const label = scenarioNames?.exchange.replace(/\.x$/, '') ?? 'ferry-cluster-failed';
    console.log(`[ferry-it] ${task.name}: node logs in ${keepNodeLogs(nodes, label)}`);
  }
  await nodes.heal();
  const names = scenarioNames;
  scenarioNames = undefined;
  // A cleanup that fails is said, not raised: it would hide why the scenario failed.
  await healed(nodes, names ?? { quorumQueues: [] })
    .then(() => (names === undefined ? undefined : deleteTopology(nodes.urls[0]!, names)))
    .catch((error: unknown) => console.log(`[ferry-it] ${names?.queue}: not deleted: ${String(error)}`));
}, SCENARIO_TIMEOUT_MS);

/**
 * A producer given every node's URL, whose first failover round starts on node `home`; `retry`
 * replaces the named fields of FAST_OPTIONS' fast retry policy.
 */
function clusterProducer(names: ClusterTopology, home: number, retry?: RetryOptions): FaultProducer {
  const nodes = cluster.current();
  return faultProducer(
    mergeOptions(names.producerOptions, {
      seed: seedStartingOn(seed, home, NODES),
      connection: {
        urls: [...nodes.urls],
        // A paused node is found by its missing heartbeats within about two intervals.
        heartbeatSeconds: 2,
        timeoutMs: 3_000,
        reconnect: { maxAttempts: 1_000 },
      },
      ...(retry === undefined ? {} : { retry }),
    }),
  );
}

/** The node of ferry's current connection. */
function nodeOf(run: FaultProducer, nodes: ThrowawayCluster): number | undefined {
  const { endpoint, phase } = run.producer.status().connection;
  return endpoint === null || phase !== 'connected' ? undefined : nodes.nodeAt(endpoint);
}

/** A node in [0, 3) drawn from `random`, and another one. */
function twoNodes(random: () => number): [number, number] {
  const first = Math.floor(random() * NODES);
  return [first, (first + 1 + Math.floor(random() * (NODES - 1))) % NODES];
}

/** Every member of the scenario's queues online again, and each queue led. */
function healed(
  nodes: ThrowawayCluster,
  names: Pick<ClusterTopology, 'quorumQueues'>,
): Promise<Map<string, QueuePlacement>> {
  return nodes.awaitPlacement(names.quorumQueues, (placement) => settled(placement, NODES));
}

/**
 * The options every scenario shares. Each queue is read exactly and left as it was (drain.ts), checked
 * against ferry's confirmed (or dead-lettered) ids for it; what its reads saw beyond one clean read goes
 * into the loss account. Each read keeps one read's room under the queues' delivery limit for that
 * account's second read.
 */
function common(scenario: string, names: ClusterTopology, run: FaultProducer) {
  const nodes = cluster.current();
  const notes: string[] = [];
  scenarioNames = names;
  return {
    scenario,
    run,
    names,
    brokerUrl: nodes.urls[0]!,
    random: scenarioRandom(seed, scenario),
    messages: MESSAGES,
    perTick: PER_TICK,
    request: (n: number) => clusterMessage(names, scenario, n),
    collect: (outcomes: ReadonlyMap<string, Settlement | 'unsettled'>) =>
      drainQuorumQueues(nodes, names.queues, {
        expected: idsSettledAs(outcomes, 'confirmed', names.queues, scenario),
        reserveReads: 1,
        notes,
      }),
    collectDeadLetters: (outcomes: ReadonlyMap<string, Settlement | 'unsettled'>) =>
      drainQuorumQueues(nodes, [names.deadLetterQueue], {
        expected: idsSettledAs(outcomes, 'dead-lettered', names.queues, scenario),
        reserveReads: 1,
        notes,
      }),
    explainLoss: (lostIds: readonly string[], outcomes: ReadonlyMap<string, Settlement | 'unsettled'>) =>
      explainClusterLoss({ cluster: nodes, scenario, queues: names.queues, notes }, lostIds, outcomes),
  };
}

describe(`a three-node cluster (seed ${seed})`, () => {
  it(
    'stop_app on the node ferry is connected to: ferry moves to another node, nothing lost',
    async () => {
      const nodes = cluster.current();
      const names = clusterTopology('stop-app');
      const [home] = twoNodes(scenarioRandom(seed, 'cluster-nodes-stop-app'));
      const run = clusterProducer(names, home);
      let stopped: number | undefined;
      let leaderStopped = false;
      const result = await runFault({
        ...common('cluster-stop-app', names, run),
        inject: async () => {
          stopped = nodeOf(run, nodes);
          // ferry declared the queues on connect, so the node it is on leads them.
          const before = await nodes.placement(names.quorumQueues);
          leaderStopped = [...before.values()].every((placement) => placement.leader === stopped);
          if (stopped !== undefined) await nodes.stopApp(stopped);
        },
        healWhen: () => {
          const now = nodeOf(run, nodes);
          return now !== undefined && now !== stopped;
        },
        heal: async () => {
          await nodes.startApp(stopped!);
          await healed(nodes, names);
        },
        reconnects: true,
      });
      expect(stopped).toBe(home);
      expect(leaderStopped).toBe(true);
      expect(nodes.nodeAt(result.status.connection.endpoint!)).not.toBe(stopped);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'kill -9 of the node leading the queues and the dead-letter queue while ferry is on another: a new leader, no reconnect, dead-lettering goes on',
    async () => {
      const nodes = cluster.current();
      const names = clusterTopology('kill-leader');
      const [leader, home] = twoNodes(scenarioRandom(seed, 'cluster-nodes-kill-leader'));
      await declareThrough(nodes.urls[leader]!, names);
      const before = await healed(nodes, names);
      const run = clusterProducer(names, home);
      let connectedTo: number | undefined;
      let electedOn: number[] = [];
      // Sent once the new leaders are elected, where no binding routes it: returned by every attempt,
      // then handed to the dead-letter exchange, whose queue's leader is the killed node.
      let unroutable: PublishRequest | undefined;
      const request = (n: number): PublishRequest => {
        const next = clusterMessage(names, 'cluster-kill-leader', n);
        if (electedOn.length === 0 || unroutable !== undefined) return next;
        unroutable = { ...next, routingKey: 'no.queue.bound' };
        return unroutable;
      };
      const result = await runFault({
        ...common('cluster-kill-leader', names, run),
        request,
        inject: async () => {
          connectedTo = nodeOf(run, nodes);
          await nodes.kill(leader);
          const after = await nodes.awaitPlacement(
            names.quorumQueues,
            (placement) => placement.leader !== undefined && placement.leader !== leader,
          );
          electedOn = [...after.values()].map((placement) => placement.leader ?? -1);
        },
        // The node comes back only once the hand-off has happened without it; a parked hand-off
        // never gets there, and the scenario fails on its fault timeout.
        healWhen: ({ producer }) => unroutable !== undefined && producer.status().messages.deadLettered === 1,
        heal: async () => {
          await nodes.restart(leader);
          await healed(nodes, names);
        },
        reconnects: false,
      });
      expect(before).toEqual(
        new Map(names.quorumQueues.map((queue) => [queue, { leader, online: [0, 1, 2] }])),
      );
      expect(connectedTo).toBe(home);
      expect(electedOn.every((node) => node !== leader && node >= 0)).toBe(true);
      expect(nodes.nodeAt(result.status.connection.endpoint!)).toBe(home);
      expect(result.outcomes.get(unroutable!.messageId as string)).toBe('dead-lettered');
      expect(result.verdict).toMatchObject({ deadLettered: 1, deadLetterReasons: { RETURNED: 1 } });
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'the node ferry publishes through paused (SIGSTOP): ferry moves to another node, nothing lost',
    async () => {
      const nodes = cluster.current();
      const names = clusterTopology('pause');
      const [leader, home] = twoNodes(scenarioRandom(seed, 'cluster-nodes-pause'));
      await declareThrough(nodes.urls[leader]!, names);
      await healed(nodes, names);
      const run = clusterProducer(names, home);
      let paused: number | undefined;
      const result = await runFault({
        ...common('cluster-pause', names, run),
        inject: () => {
          paused = nodeOf(run, nodes);
          if (paused !== undefined) nodes.pause(paused);
        },
        healWhen: () => {
          const now = nodeOf(run, nodes);
          return now !== undefined && now !== paused;
        },
        heal: async () => {
          nodes.resume(paused!);
          await healed(nodes, names);
        },
        reconnects: true,
      });
      expect(paused).toBe(home);
      expect(nodes.nodeAt(result.status.connection.endpoint!)).not.toBe(paused);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'a rolling restart of all three nodes under steady load: every accepted message in its queue',
    async () => {
      const nodes = cluster.current();
      const names = clusterTopology('rolling');
      const [home] = twoNodes(scenarioRandom(seed, 'cluster-nodes-rolling'));
      const run = clusterProducer(names, home, ROLLING_RESTART_RETRY);
      const visited = new Set<number>();
      const result = await runFault({
        ...common('cluster-rolling-restart', names, run),
        // The restarts take a minute or more on a loaded machine: half the pace keeps the count modest.
        perTick: 1,
        inject: async () => {
          visited.add(nodeOf(run, nodes) ?? home);
          for (let node = 0; node < NODES; node += 1) {
            await nodes.stopApp(node);
            await nodes.startApp(node);
            // The next node goes only once every queue has all its members back: a majority stays up.
            await healed(nodes, names);
            const now = nodeOf(run, nodes);
            if (now !== undefined) visited.add(now);
          }
        },
        healWhen: () => true,
        heal: () => undefined,
        reconnects: true,
      });
      expect(result.verdict.delivered).toBe(result.verdict.accepted);
      expect(result.verdict.deadLettered).toBe(0);
      // ferry's own node was restarted under it, so it moved at least once.
      expect(visited.size).toBeGreaterThan(1);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'the drain: waits for messages another connection holds, re-reads a queue short of expected ids, leaves every message in place, and stops at the delivery limit',
    async () => {
      const nodes = cluster.current();
      const names = clusterTopology('drain');
      scenarioNames = names;
      const queue = names.queues[0]!;
      await declareThrough(nodes.urls[0]!, names);
      await healed(nodes, names);
      const ids = Array.from({ length: 50 }, (_, n) => `drain-${n}`);
      const connection = await amqp.connect(nodes.urls[0]!);
      const channel = await connection.createConfirmChannel();
      for (const messageId of ids) channel.sendToQueue(queue, Buffer.from('x'), { messageId });
      await channel.waitForConfirms();
      // Ten messages held unacked, as a read that failed holds them until its channel's end is applied.
      for (let n = 0; n < 10; n += 1) expect(await channel.get(queue, { noAck: false })).not.toBe(false);
      const released = new Promise((resolve) => setTimeout(resolve, 3_000)).then(() => connection.close());
      const notes: string[] = [];
      const expected = new Set([...ids, 'drain-never-sent']);
      const first = await drainQuorumQueues(nodes, [queue], {
        expected: () => expected,
        reserveReads: 1,
        notes,
        // Long enough that the delivery limit, not the clock, ends the re-reads.
        rereadForMs: 120_000,
      });
      await released;
      expect(first.map((delivery) => delivery.messageId).sort()).toEqual([...ids].sort());
      // Short of one id on every read until the budget stopped the re-reads: of five reads, one is kept
      // for later, and the held messages came back already returned once (read 1 saw it in their
      // x-delivery-count), which counts as a read spent.
      expect(notes).toEqual([
        expect.stringMatching(
          /^[^;]*read 1 exact: 50 messages, 1 of 51 expected ids missing.*; no read 4: 4 reads made/,
        ),
      ]);
      const second = await drainQuorumQueues(nodes, [queue]);
      expect(second).toHaveLength(50);
      // The held ten are at their fifth return now (one by their holder, four by reads): a sixth read
      // would drop them, and is refused.
      expect(
        Math.max(...second.map((delivery) => Number(delivery.properties.headers?.['x-delivery-count']))),
      ).toBe(4);
      await expect(drainQuorumQueues(nodes, [queue])).rejects.toThrow(
        /no read 1: 5 reads made and a delivery limit of 5/,
      );
      expect(await nodes.queueCounts(queue)).toMatchObject({ ready: 50, checkedOut: 0, total: 50 });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
