/**
 * The steps that make three started throwaway nodes one cluster, each bounded by the start-up's
 * deadline and retried where a loaded machine makes it fail now and then: `rabbitmqctl` is an Erlang
 * VM of its own that may not reach a busy node in time, `start_app` after `join_cluster` waits for the
 * schema from the first node, and Ra (the quorum queues' Raft) starts on a node after RabbitMQ says it
 * runs. A step that runs out of time throws a {@link ClusterStartError} naming the step, its last
 * command's output and every node's log tail, so that a CI log says why.
 */
import { execFile } from 'node:child_process';
import { connect } from 'amqplib';
import type { ThrowawayBroker } from './throwaway-broker.js';

/** One try of a step may take this long before it is killed and tried again. */
const TRY_TIMEOUT_MS = 90_000;
/** Pause between two tries of a step. */
const RETRY_PAUSE_MS = 1_000;
/** Lines of each node's log in a start-up error. */
const LOG_LINES = 25;

/** Why the cluster did not start: the step, what its command printed, and every node's log tail. */
export class ClusterStartError extends Error {
  override readonly name = 'ClusterStartError';
}

/** Time left before `deadline` (epoch ms), never below 1 ms. */
export function remainingMs(deadline: number): number {
  return Math.max(1, deadline - Date.now());
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `attempt` until it resolves, with a pause between tries, giving each try at most the time left
 * and {@link TRY_TIMEOUT_MS}; rejects with the step's name, the number of tries and the last error once
 * `deadline` has passed.
 */
export async function retrying<T>(
  step: string,
  deadline: number,
  attempt: (timeoutMs: number) => Promise<T>,
): Promise<T> {
  if (Date.now() >= deadline) throw new Error(`${step}: no time left, the start-up's deadline has passed`);
  for (let tries = 1; ; tries += 1) {
    try {
      return await attempt(Math.min(TRY_TIMEOUT_MS, remainingMs(deadline)));
    } catch (error) {
      if (Date.now() + RETRY_PAUSE_MS >= deadline) {
        throw new Error(`${step}: failed ${tries} time(s) before the deadline; last: ${message(error)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
    }
  }
}

/** `rabbitmqctl cluster_status` of `node`: the nodes it counts as members and those it sees running. */
async function clusterStatus(
  node: ThrowawayBroker,
  timeoutMs: number,
): Promise<{ members: string[]; running: string[] }> {
  const status = JSON.parse(await node.ctlWithin(timeoutMs, 'cluster_status', '--formatter', 'json')) as {
    disk_nodes?: string[];
    running_nodes?: string[];
  };
  return { members: status.disk_nodes ?? [], running: status.running_nodes ?? [] };
}

/**
 * Joins `node` to `first`'s cluster and starts RabbitMQ on it again. A `join_cluster` whose CLI was
 * killed or lost its connection may still have joined, so a failed try asks the node before trying
 * again; `start_app` whose CLI gave up leaves the boot going on, which `await_startup` then waits for.
 */
export async function joinCluster(
  node: ThrowawayBroker,
  first: ThrowawayBroker,
  deadline: number,
): Promise<void> {
  const name = node.nodeName;
  await retrying(`stop_app on ${name}`, deadline, (timeoutMs) => node.ctlWithin(timeoutMs, 'stop_app'));
  await retrying(`join_cluster ${first.nodeName} on ${name}`, deadline, async (timeoutMs) => {
    try {
      await node.ctlWithin(timeoutMs, 'join_cluster', first.nodeName);
    } catch (error) {
      const { members } = await clusterStatus(node, timeoutMs).catch(() => ({ members: [] as string[] }));
      if (!members.includes(first.nodeName)) throw error;
    }
  });
  await retrying(`start_app on ${name}`, deadline, async (timeoutMs) => {
    await node.ctlWithin(timeoutMs, 'start_app').catch(() => undefined);
    const seconds = String(Math.max(1, Math.floor(timeoutMs / 1_000) - 5));
    await node.ctlWithin(timeoutMs, 'await_startup', '--timeout', seconds);
  });
}

/** Resolves once `node` sees every one of `nodes` running in its cluster. */
export function awaitAllRunning(
  node: ThrowawayBroker,
  nodes: readonly ThrowawayBroker[],
  deadline: number,
): Promise<void> {
  return retrying(`cluster_status on ${node.nodeName}`, deadline, async (timeoutMs) => {
    const { running } = await clusterStatus(node, timeoutMs);
    const missing = nodes.filter((candidate) => !running.includes(candidate.nodeName));
    if (missing.length > 0) {
      throw new Error(`not running yet: ${missing.map((candidate) => candidate.nodeName).join(', ')}`);
    }
  });
}

/**
 * Declares a quorum queue through `url`, waits (with `replicated`) until it has a leader and all of
 * its members online, and deletes it: proof that Ra runs on every node before a test relies on it.
 */
export async function probeQuorumQueue(
  url: string,
  replicated: (queue: string, timeoutMs: number) => Promise<unknown>,
  deadline: number,
): Promise<void> {
  const queue = `ferry-cluster-probe-${process.pid}-${Date.now()}`;
  const withChannel = async (use: (channel: import('amqplib').Channel) => Promise<unknown>) => {
    const model = await connect(url);
    model.on('error', () => undefined);
    try {
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      await use(channel);
    } finally {
      await model.close().catch(() => undefined);
    }
  };
  await retrying(`declaring quorum queue ${queue}`, deadline, () =>
    withChannel((channel) =>
      channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
    ),
  );
  await replicated(queue, remainingMs(deadline));
  await retrying(`deleting quorum queue ${queue}`, deadline, () =>
    withChannel((channel) => channel.deleteQueue(queue)),
  );
}

/** `epmd -names`: which Erlang nodes are registered on this machine, for the start-up error. */
function epmdNames(): Promise<string> {
  return new Promise((resolve) => {
    execFile('epmd', ['-names'], { timeout: 5_000 }, (error, stdout, stderr) => {
      resolve(error === null ? stdout.trim() : `epmd -names failed: ${error.message} ${stderr}`);
    });
  });
}

/** One failed try's account: the step's error, then each node's ports and log tail, then epmd. */
export async function diagnosis(error: unknown, nodes: readonly ThrowawayBroker[]): Promise<string> {
  const tails = await Promise.all(
    nodes.map(
      async (node) =>
        `--- ${node.nodeName} (amqp ${node.port}, folder ${node.dir}), last ${LOG_LINES} log lines ---\n` +
        (await node.logTail(LOG_LINES)),
    ),
  );
  return `${message(error)}\n${tails.join('\n')}\n--- epmd -names ---\n${await epmdNames()}`;
}
