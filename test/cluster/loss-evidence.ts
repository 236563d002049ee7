/**
 * What a cluster scenario that lost messages says about them, so that a failed run (in CI, where the
 * nodes are gone afterwards) tells a miscount by the drain from messages the cluster no longer has:
 * which queues the lost ids belong to, what ferry's receipts said of them, what the drain's reads saw
 * when they were more than one clean read (a read discarded, a queue short of ids at first), what every
 * node reports for the queues (messages, leader, members, online), whether a second read through each
 * queue's leader finds them after all, and where the nodes' logs were kept.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import type { Settlement } from '../../src/producer/receipt.js';
import { FAULT_RESULTS_DIR } from '../faults/support/scorer.js';
import type { ThrowawayCluster } from '../support/cluster.js';
import { drainQuorumQueues } from './drain.js';
import { queueOfId } from './support.js';

/** The scenario's queues, in the order {@link clusterMessage} sends message `n` to (`n % length`). */
interface LossContext {
  readonly cluster: ThrowawayCluster;
  readonly scenario: string;
  readonly queues: readonly string[];
  /** What the drain said of reads beyond one clean read per queue (drain.ts's `notes`). */
  readonly notes: readonly string[];
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
  const { cluster, scenario, queues, notes } = context;
  const queueOf = (id: string): string => queueOfId(queues, scenario, id) ?? id;
  const lost = new Set(lostIds);
  const view = await cluster.queueReport(queues);
  // Exact and non-destructive like the first; the first left it room under the delivery limit.
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
  const kept = keepNodeLogs(cluster, scenario);
  return [
    `lost per queue: ${JSON.stringify(tally(lostIds, queueOf))}`,
    `ferry's outcome for them: ${JSON.stringify(tally(lostIds, (id) => String(outcomes.get(id))))}`,
    `the drain's reads: ${notes.length === 0 ? 'one exact read per queue' : `\n  ${notes.join('\n  ')}`}`,
    `the nodes' view, before a second read:\n${view}`,
    `the second read: ${secondRead}`,
    `node logs: ${kept}`,
  ].join('\n');
}

/**
 * Copies every node's log folder under `.fault-results/<label>-nodes/` (the nodes' own folders go when
 * the cluster stops); returns that folder, or why nothing was kept.
 */
export function keepNodeLogs(cluster: ThrowawayCluster, label: string): string {
  const logs = join(FAULT_RESULTS_DIR, `${label}-nodes`);
  try {
    for (const node of cluster.nodes)
      cpSync(join(node.dir, 'log'), join(logs, node.nodeName), { recursive: true });
    return logs;
  } catch (error) {
    return `not kept: ${String(error)}`;
  }
}
