/**
 * Ending a Mnesia partition that `pause_minority` leaves in place. A node paused (SIGSTOP) past the
 * net tick time comes back to peers that declared it down; it sees them again at once, so it never
 * finds itself in a minority and does not stop, and the partition stays recorded until a restart.
 * While it lasts, metadata written through one side does not reach the other: in one run the rolling
 * restart's queues, declared through the node the pause scenario had paused, were missing from the
 * other nodes' tables, and the node restarted first recovered none of their members (`Recovering 0
 * queues of type rabbit_quorum_queue`), which stayed offline until the scenario gave up.
 */
import type { ThrowawayBroker } from './throwaway-broker.js';

/** The Erlang expression whose answer lists the peers a node records a partition with. */
export const PARTITIONS_EXPRESSION = 'rabbit_node_monitor:partitions().';

/** How many peers `rabbitmqctl eval`'s answer to {@link PARTITIONS_EXPRESSION} names. */
export function partitionCount(answer: string): number {
  return answer.match(/'[^']+@[^']+'/g)?.length ?? 0;
}

/**
 * Restarts RabbitMQ (`stop_app`, `start_app`) on the node that records the most partitioned peers (the
 * side that was cut off goes first), then on any node still recording one, until none does: a node
 * starting again loads its tables from its running peers and forgets the partition. Every node's app
 * must be running.
 *
 * @throws Error when partitions remain after one restart per node.
 */
export async function endPartitions(nodes: readonly ThrowawayBroker[], timeoutMs: number): Promise<void> {
  let counts: number[] = [];
  for (let restarts = 0; restarts <= nodes.length; restarts += 1) {
    counts = await Promise.all(
      nodes.map(async (node) =>
        partitionCount(await node.ctlWithin(timeoutMs, 'eval', PARTITIONS_EXPRESSION)),
      ),
    );
    const most = Math.max(...counts);
    if (most === 0) return;
    if (restarts === nodes.length) break;
    const node = nodes[counts.indexOf(most)]!;
    // Said out loud: how often a paused node leaves a partition is evidence for docs/scaling.md.
    console.log(
      `[ferry-it] Mnesia partitions (peers per node ${JSON.stringify(counts)}): restarting node ${counts.indexOf(most)}'s app`,
    );
    await node.ctlWithin(timeoutMs, 'stop_app');
    await node.ctlWithin(timeoutMs, 'start_app');
  }
  throw new Error(
    `Mnesia partitions remain after restarting each node: peers per node ${JSON.stringify(counts)}`,
  );
}
