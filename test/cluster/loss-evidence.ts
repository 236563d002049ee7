/**
 * What a cluster scenario that lost messages says about them, so that a failed run (in CI, where the
 * nodes are gone afterwards) tells a miscount by the drain from messages the cluster no longer has:
 * which queues the lost ids belong to, what ferry's receipts said of them, what every node reports
 * for the queues (messages, leader, members, online), whether a second read through each queue's
 * leader finds them after all, and where the nodes' logs were kept.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import type { Settlement } from '../../src/producer/receipt.js';
import { FAULT_RESULTS_DIR } from '../faults/support/scorer.js';
import type { ThrowawayCluster } from '../support/cluster.js';
import { drainQuorumQueues } from './drain.js';

/** The scenario's queues, in the order {@link clusterMessage} sends message `n` to (`n % length`). */
interface LossContext {
  readonly cluster: ThrowawayCluster;
  readonly scenario: string;
  readonly queues: readonly string[];
}

/** How many of `ids` each value of `of` takes, as `{ value: count }`. */
function tally(ids: readonly string[], of: (id: string) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of ids) {
    const value = of(id);
    counts[value] = (counts[value] ?? 0) + 1;
  }
  return counts;
}

/**
 * The account of `lostIds` for the failed assertion's message. Reads the queues a second time (what
 * that read finds is reported, not counted: the verdict stays the first read's) and copies every
 * node's log folder under `.fault-results/<scenario>-nodes/`.
 */
export async function explainClusterLoss(
  context: LossContext,
  lostIds: readonly string[],
  outcomes: ReadonlyMap<string, Settlement | 'unsettled'>,
): Promise<string> {
  const { cluster, scenario, queues } = context;
  const queueOf = (id: string): string => queues[Number(id.slice(scenario.length + 1)) % queues.length] ?? id;
  const lost = new Set(lostIds);
  // Before the second read, which takes whatever it finds off the queues.
  const view = await cluster.queueReport(queues);
  const secondRead = await drainQuorumQueues(cluster, queues).then(
    (deliveries) => {
      const found = [
        ...new Set(
          deliveries.flatMap((delivery) =>
            delivery.messageId !== undefined && lost.has(delivery.messageId) ? [delivery.messageId] : [],
          ),
        ),
      ];
      return `${deliveries.length} messages, ${found.length} distinct lost ids among them: ${JSON.stringify(tally(found, queueOf))}`;
    },
    (error: unknown) => `failed: ${String(error)}`,
  );
  const logs = join(FAULT_RESULTS_DIR, `${scenario}-nodes`);
  const kept = (() => {
    try {
      for (const node of cluster.nodes)
        cpSync(join(node.dir, 'log'), join(logs, node.nodeName), { recursive: true });
      return logs;
    } catch (error) {
      return `not kept: ${String(error)}`;
    }
  })();
  return [
    `lost per queue: ${JSON.stringify(tally(lostIds, queueOf))}`,
    `ferry's outcome for them: ${JSON.stringify(tally(lostIds, (id) => String(outcomes.get(id))))}`,
    `the nodes' view, before a second read:\n${view}`,
    `the second read: ${secondRead}`,
    `node logs: ${kept}`,
  ].join('\n');
}
