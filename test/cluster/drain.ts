/**
 * Reads a cluster's quorum queues to the end without trusting a message count. RabbitMQ 3.10 answers a
 * passive `queue.declare` on a quorum queue by asking the queue's leader with a 250 ms timeout and
 * reports 0 messages when the leader does not answer in time or cannot be reached
 * (`rabbit_quorum_queue:stat/2`): on a loaded machine, right after a node rejoined, a full queue can
 * read as empty, and a count-driven drain ({@link drainQueue}) then returns nothing. A `basic.get`
 * goes through the queue's Raft log instead: an empty answer means the committed queue holds no ready
 * message, and a missing leader is an error, retried here, never an empty queue.
 */
import amqp, { type GetMessage } from 'amqplib';
import type { Delivery } from '../faults/support/scorer.js';
import type { QueuePlacement, ThrowawayCluster } from '../support/cluster.js';

/** How long one queue's drain may take, retries after channel errors included. */
const DRAIN_TIMEOUT_MS = 60_000;
/**
 * Each `basic.get` waits for a Raft commit; several channels per queue let the leader batch them
 * (one channel took ≈14 s for 5,800 messages over five queues on the loaded test machine).
 */
const GET_CHANNELS = 4;
/** The pause before asking again where the queue's leader is, after a channel or connection error. */
const RETRY_PAUSE_MS = 500;

/** Every member online and a leader: the state in which a read through the leader is the quorum's. */
export function settled(placement: QueuePlacement, nodes: number): boolean {
  return placement.leader !== undefined && placement.online.length === nodes;
}

/**
 * Every message `queues` hold, each queue read through its current leader's node with `basic.get`
 * until the queue answers empty. Waits first until every queue has a leader and all its members
 * online; a channel or connection error makes the drain look the leader up again and go on.
 *
 * @throws naming the queue, the node and how many messages it had handed over, when a queue cannot
 * be read to the end within {@link DRAIN_TIMEOUT_MS}.
 */
export async function drainQuorumQueues(
  cluster: ThrowawayCluster,
  queues: readonly string[],
): Promise<Delivery[]> {
  const ready = (placement: QueuePlacement): boolean => settled(placement, cluster.urls.length);
  await cluster.awaitPlacement(queues, ready);
  const drained = await Promise.all(queues.map((queue) => drainLed(cluster, queue, ready)));
  return drained.flat();
}

async function drainLed(
  cluster: ThrowawayCluster,
  queue: string,
  ready: (placement: QueuePlacement) => boolean,
): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const leader = (await cluster.awaitPlacement([queue], ready)).get(queue)?.leader ?? 0;
    try {
      await getUntilEmpty(cluster.urls[leader]!, queue, deliveries);
      return deliveries;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(
          `${queue}: ${deliveries.length} messages read through node ${leader}, then no answer within ${DRAIN_TIMEOUT_MS} ms: ${String(error)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
    }
  }
}

/**
 * Takes messages off `queue` into `into` with `basic.get` on {@link GET_CHANNELS} channels at once,
 * until each has had an empty answer. Every channel's loop ends before the connection closes, so that
 * no answer already on its way (its message already taken off the queue) is dropped.
 */
async function getUntilEmpty(url: string, queue: string, into: Delivery[]): Promise<void> {
  const connection = await amqp.connect(url);
  // An error also rejects the pending `get`; unheard, amqplib would throw it as an uncaught 'error'.
  connection.on('error', () => undefined);
  try {
    const loops = await Promise.allSettled(
      Array.from({ length: GET_CHANNELS }, async () => {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        for (;;) {
          const message = await channel.get(queue, { noAck: true });
          if (message === false) return;
          into.push(deliveryOf(message));
        }
      }),
    );
    const failed = loops.find((loop) => loop.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

function deliveryOf(message: GetMessage): Delivery {
  return {
    messageId: message.properties.messageId as string | undefined,
    content: message.content,
    properties: message.properties,
    routingKey: message.fields.routingKey,
    exchange: message.fields.exchange,
  };
}
