/**
 * A throwaway three-node RabbitMQ cluster for tests that take nodes away: three
 * {@link startThrowawayBroker} nodes (own node names, AMQP and distribution ports, folders; the
 * `rabbitmq` user's Erlang cookie, which they share), the second and third joined to the first with
 * `rabbitmqctl join_cluster`. A quorum queue declared on it is replicated to all three nodes.
 *
 * Every node is stopped and its folder removed by {@link ThrowawayCluster.stop}, and killed by the
 * throwaway helper's exit hook if the test process ends first.
 */

import { endPartitions } from './cluster-partitions.js';
import {
  awaitAllRunning,
  ClusterStartError,
  diagnosis,
  joinCluster,
  probeQuorumQueue,
  remainingMs,
} from './cluster-start.js';
import { isProcessRunning, startThrowawayBroker, type ThrowawayBroker } from './throwaway-broker.js';

/** Options for {@link startThrowawayCluster}. */
export interface ThrowawayClusterOptions {
  /** Readable prefix of the node names; each node adds its number and a unique part. */
  readonly name?: string;
  /** How long the whole start-up may take, retries included; default 200 s. */
  readonly startBudgetMs?: number;
}

/** Where a queue's Raft group stands, as `rabbitmqctl list_queues` reports it. */
export interface QueuePlacement {
  /** Index of the node that leads the queue, or `undefined` while it has no leader. */
  readonly leader: number | undefined;
  /** Indexes of the nodes whose member of the queue is online. */
  readonly online: readonly number[];
}

/** A quorum queue's message counts as its Raft state machine holds them (not the metrics' periodic copy). */
export interface QueueCounts {
  /** Messages a `basic.get` or a consumer can take now (returned ones included). */
  readonly ready: number;
  /** Messages handed out and not yet settled, also those of a closed channel whose return is not yet applied. */
  readonly checkedOut: number;
  /** Every message the queue holds. */
  readonly total: number;
  /** The queue's `x-delivery-limit`: a message returned more often than this is dead-lettered or dropped. */
  readonly deliveryLimit: number | undefined;
}

/** A running cluster. Nodes are addressed by index (0–2), in the order of {@link ThrowawayCluster.urls}. */
export interface ThrowawayCluster {
  readonly nodes: readonly ThrowawayBroker[];
  /** Each node's `amqp://` URL, by index. */
  readonly urls: readonly string[];
  /** The index of the node an endpoint (a URL, password redacted or not) points at. */
  nodeAt(endpoint: string): number;
  /** `rabbitmqctl stop_app` on one node: RabbitMQ stops, its Erlang VM stays (a broker restart's first half). */
  stopApp(index: number): Promise<void>;
  /** `rabbitmqctl start_app`, undoing {@link ThrowawayCluster.stopApp}. */
  startApp(index: number): Promise<void>;
  /** `kill -9` of the node's VM; data stays for {@link ThrowawayCluster.restart}. */
  kill(index: number): Promise<void>;
  /** Starts a killed node again; it rejoins the cluster from its data. */
  restart(index: number): Promise<void>;
  /** `kill -STOP`: the node answers nobody, its peers and clients included, until {@link ThrowawayCluster.resume}. */
  pause(index: number): void;
  /** `kill -CONT`. */
  resume(index: number): void;
  /**
   * Which node leads each of `queues` and which members are online, asked of each node in turn until
   * one answers: a stopped or killed node cannot.
   */
  placement(queues: readonly string[]): Promise<Map<string, QueuePlacement>>;
  /**
   * Every node's own `list_queues` rows for `queues` (messages, ready, type, leader, members, online),
   * or why it did not answer: for an account of a failed scenario, where the nodes may disagree.
   */
  queueReport(queues: readonly string[]): Promise<string>;
  /**
   * `queue`'s counts read through its leader with a Raft consistent query (`rabbitmqctl eval`), asked
   * of each node in turn until one answers: exact at the moment of the query, unlike `list_queues`,
   * whose quorum-queue counts are the leader's last periodic report.
   */
  queueCounts(queue: string): Promise<QueueCounts>;
  /** Polls {@link ThrowawayCluster.placement} until `ready` holds for every queue; rejects after `timeoutMs`. */
  awaitPlacement(
    queues: readonly string[],
    ready: (placement: QueuePlacement) => boolean,
    timeoutMs?: number,
  ): Promise<Map<string, QueuePlacement>>;
  /**
   * Undoes whatever a test left: resumes paused nodes, restarts dead ones, starts stopped apps, ends
   * Mnesia partitions (restarting a partitioned node's app). For an `afterEach`, so that a failed
   * scenario does not leave the next one a broken cluster.
   */
  heal(): Promise<void>;
  /** Stops every node and removes their folders; safe to call twice, and after a failed test. */
  stop(): Promise<void>;
}

const CLUSTER_SIZE = 3;
/**
 * A paused or cut-off node is declared down after 10 s (±25 %) instead of Erlang's 60: until then
 * every cluster-wide write (an exchange or binding declaration) waits for it. `pause_minority` then
 * stops RabbitMQ on the node that finds itself alone, and starts it again once it sees the others. A
 * node that was paused sees the others at once and stops nothing: its Mnesia partition stays until
 * {@link ThrowawayCluster.heal} ends it (cluster-partitions.ts).
 */
const NODE_CONFIG = {
  config: ['cluster_partition_handling = pause_minority'],
  advancedConfig: '[{kernel, [{net_ticktime, 10}]}].',
};
/**
 * How long a restarted node's queue members may take to come back online. On the loaded 2-core
 * machine one took over 60 s once, mid rolling restart, and failed a run that lost nothing.
 */
const PLACEMENT_TIMEOUT_MS = 120_000;
/** `start_app` returns once RabbitMQ runs, which on a loaded machine, syncing with its peers, takes a while. */
const APP_TIMEOUT_MS = 120_000;
/** How long `list_queues` may wait for the queues' answers, which a loaded machine slows. */
const ASK_TIMEOUT_SECONDS = 15;

/**
 * The Erlang expression for {@link ThrowawayCluster.queueCounts}: `rabbit_fifo:overview/1` of the
 * queue's state, through `ra:consistent_query` (the leader answers once a majority confirms it still
 * leads). The Debian wrapper re-quotes arguments for `sh -c`: the name is checked to hold no quoting.
 */
function countsExpression(queue: string): string {
  if (!/^[\w.-]+$/.test(queue)) throw new Error(`queueCounts: unsupported queue name ${queue}`);
  return [
    `{ok, Q} = rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, <<"${queue}">>)),`,
    'case ra:consistent_query(amqqueue:get_pid(Q), fun rabbit_fifo:overview/1) of',
    '{ok, O, _} -> {counts, maps:get(num_ready_messages, O), maps:get(num_checked_out, O),',
    'maps:get(num_messages, O), maps:get(delivery_limit, maps:get(config, O))};',
    'Other -> Other end.',
  ].join(' ');
}

/** The counts in `rabbitmqctl eval`'s answer to {@link countsExpression}. */
function parseCounts(queue: string, answer: string): QueueCounts {
  const match = /^\{counts,(\d+),(\d+),(\d+),(\w+)\}$/.exec(answer.trim());
  if (match === null) throw new Error(`${queue}: no counts from the queue's leader: ${answer.trim()}`);
  const [, ready, checkedOut, total, limit] = match;
  return {
    ready: Number(ready),
    checkedOut: Number(checkedOut),
    total: Number(total),
    deliveryLimit: limit === 'undefined' ? undefined : Number(limit),
  };
}

/**
 * The whole start-up's bound: below the suite's 240 s hook timeout, so that a start-up that cannot
 * finish ends with {@link ClusterStartError} (which says why) rather than vitest's bare timeout.
 */
const START_BUDGET_MS = 200_000;
/** A cluster that could not be formed is torn down and started afresh once, time permitting. */
const START_ATTEMPTS = 2;
/** A fresh try is not worth starting with less time than this left: three nodes take ≈20 s alone. */
const MIN_TRY_MS = 45_000;

/**
 * Starts three nodes at once, joins the second and third to the first, and resolves once all three
 * run and a quorum queue gets a member on each. Nodes left by dead test processes are removed first
 * (by {@link startThrowawayBroker}); a try that fails is torn down and, time permitting, made again.
 * Rejects with a {@link ClusterStartError} holding each try's failing step, its command's output and
 * the nodes' log tails; no node outlives a failed start-up.
 */
export async function startThrowawayCluster(
  options: ThrowawayClusterOptions = {},
): Promise<ThrowawayCluster> {
  const deadline = Date.now() + (options.startBudgetMs ?? START_BUDGET_MS);
  const failures: string[] = [];
  for (let attempt = 1; ; attempt += 1) {
    const startedAt = Date.now();
    try {
      return await startOnce(options.name ?? 'cluster', deadline);
    } catch (error) {
      failures.push(`=== try ${attempt}, after ${Date.now() - startedAt} ms: ${String(error)}`);
      if (attempt >= START_ATTEMPTS || remainingMs(deadline) < MIN_TRY_MS) {
        throw new ClusterStartError(`the throwaway cluster did not start\n${failures.join('\n')}`);
      }
    }
  }
}

/** One try: the nodes, the joins, the readiness checks; everything stopped again if a step fails. */
async function startOnce(prefix: string, deadline: number): Promise<ThrowawayCluster> {
  // The boot's own bound leaves time for the joins after it.
  const startTimeoutSeconds = Math.max(30, Math.floor(remainingMs(deadline) / 2_000));
  const started = await Promise.allSettled(
    Array.from({ length: CLUSTER_SIZE }, (_, i) =>
      startThrowawayBroker({ name: `${prefix}-${i + 1}`, startTimeoutSeconds, ...NODE_CONFIG }),
    ),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  // Each node's stop resumes a paused node first and kills one that will not stop.
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    const failed = started.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const [first, ...others] = nodes as [ThrowawayBroker, ...ThrowawayBroker[]];
    // One at a time: two nodes joining the same node at once can race on its schema.
    for (const node of others) await joinCluster(node, first, deadline);
    await awaitAllRunning(first, nodes, deadline);
    const cluster = clusterOf(nodes, stop);
    await probeQuorumQueue(
      first.url,
      (queue, timeoutMs) =>
        cluster.awaitPlacement(
          [queue],
          (placement) => placement.leader !== undefined && placement.online.length === CLUSTER_SIZE,
          timeoutMs,
        ),
      deadline,
    );
    return cluster;
  } catch (error) {
    const account = await diagnosis(error, nodes);
    await stop();
    throw new Error(account);
  }
}

function clusterOf(nodes: readonly ThrowawayBroker[], stop: () => Promise<void>): ThrowawayCluster {
  const node = (index: number): ThrowawayBroker => {
    const found = nodes[index];
    if (found === undefined) throw new Error(`no cluster node ${index}`);
    return found;
  };
  const indexOfNodeName = (name: string): number | undefined => {
    const index = nodes.findIndex((candidate) => candidate.nodeName === name);
    return index < 0 ? undefined : index;
  };
  const placement: ThrowawayCluster['placement'] = async (queues) => {
    let lastError: unknown;
    for (const index of nodes.keys()) {
      try {
        const rows = JSON.parse(
          await node(index).ctl(
            'list_queues',
            'name',
            'leader',
            'online',
            '--formatter',
            'json',
            '--timeout',
            String(ASK_TIMEOUT_SECONDS),
          ),
        ) as { name: string; leader: string; online: string[] | string }[];
        const result = new Map<string, QueuePlacement>();
        for (const queue of queues) {
          const row = rows.find((candidate) => candidate.name === queue);
          if (row === undefined) throw new Error(`queue ${queue} is not declared on the cluster`);
          const online = Array.isArray(row.online) ? row.online : [];
          result.set(queue, {
            leader: indexOfNodeName(row.leader),
            online: online.flatMap((name) => indexOfNodeName(name) ?? []).sort((a, b) => a - b),
          });
        }
        return result;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  };
  return {
    nodes,
    urls: nodes.map((candidate) => candidate.url),
    nodeAt: (endpoint) => {
      const port = Number(new URL(endpoint).port);
      const index = nodes.findIndex((candidate) => candidate.port === port);
      if (index < 0) throw new Error(`${endpoint} is not a node of the cluster`);
      return index;
    },
    stopApp: async (index) => {
      await node(index).ctlWithin(APP_TIMEOUT_MS, 'stop_app');
    },
    startApp: async (index) => {
      await node(index).ctlWithin(APP_TIMEOUT_MS, 'start_app');
    },
    kill: (index) => node(index).kill(),
    restart: (index) => node(index).restart(),
    pause: (index) => node(index).freeze(),
    resume: (index) => node(index).unfreeze(),
    placement,
    queueReport: async (queues) => {
      const columns = ['name', 'messages', 'messages_ready', 'type', 'leader', 'members', 'online'];
      const reports = await Promise.all(
        nodes.map(async (candidate, index) => {
          const rows = await candidate
            .ctl('list_queues', ...columns, '--no-table-headers', '--timeout', String(ASK_TIMEOUT_SECONDS))
            .then((out) => out.split('\n').filter((row) => queues.includes(row.split('\t')[0] ?? '')))
            .catch((error: unknown) => [`no answer: ${String(error)}`]);
          return `node ${index} (${candidate.nodeName}):\n  ${rows.join('\n  ')}`;
        }),
      );
      return reports.join('\n');
    },
    queueCounts: async (queue) => {
      let lastError: unknown;
      for (const candidate of nodes) {
        try {
          return parseCounts(queue, await candidate.ctl('eval', countsExpression(queue)));
        } catch (error) {
          lastError = error;
        }
      }
      throw lastError;
    },
    heal: async () => {
      await Promise.all(
        nodes.map(async (candidate) => {
          if (!isProcessRunning(candidate.pid())) {
            await candidate.restart();
            return;
          }
          candidate.unfreeze();
          // A no-op where RabbitMQ runs.
          await candidate.ctlWithin(APP_TIMEOUT_MS, 'start_app');
        }),
      );
      await endPartitions(nodes, APP_TIMEOUT_MS);
    },
    awaitPlacement: async (queues, ready, timeoutMs = PLACEMENT_TIMEOUT_MS) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await placement(queues).catch((error: unknown) => error);
        if (current instanceof Map && [...current.values()].every(ready)) return current;
        if (Date.now() > deadline) {
          const seen = current instanceof Map ? JSON.stringify([...current]) : String(current);
          throw new Error(`queue placement not reached within ${timeoutMs} ms: ${seen}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    stop,
  };
}
