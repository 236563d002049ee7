/**
 * Reads a cluster's quorum queues to the end without taking anything off them, and proves each read
 * complete, so that the drain can neither lose nor invent a message.
 *
 * - **Non-destructive.** Every message is taken with `basic.get` and `noAck: false` and never acked: it
 *   stays checked out to our channel and goes back to the queue when the read's connection closes. A
 *   `get-ok` on the wire when a channel or connection fails is therefore not lost (an auto-ack get's
 *   would be: taken off the queue and never recorded). A read that meets any error is discarded whole
 *   and made again; reads are never merged, so each copy of a message is counted once.
 * - **Exact, not timed.** A closed channel's messages come back when the queue's Raft log applies the
 *   channel's end, which may be after the next read began: that read would miss them. So before a read
 *   the queue must report nothing checked out (every earlier read's messages back), and a read counts
 *   only if, while it still holds everything it took, the queue reports nothing ready and exactly as
 *   many messages checked out, and in all, as the read holds. The counts come from a Raft consistent
 *   query through the leader ({@link ThrowawayCluster.queueCounts}), never from `list_queues` (the
 *   leader's periodic metrics) or a passive declare (RabbitMQ 3.10 answers 0 when the leader does not
 *   reply within 250 ms). Nothing publishes or consumes while the drain runs, so those counts can only
 *   change by our own reads and returns.
 * - **The delivery limit.** Each return raises a message's `x-delivery-count`, and a quorum queue drops
 *   (or dead-letters) a message returned more often than its `x-delivery-limit`: the ML queues' 5 let a
 *   message be read 5 times; measured on a throwaway node, the sixth read of 300 messages left the queue
 *   empty. Every read of a queue made in this process is counted (and the counts seen in the headers
 *   checked), and no read starts whose return could push a message past the limit less `reserveReads`
 *   (the collect keeps one for the loss account's second read).
 * - **Expected ids.** When an exact read holds fewer of `expected` (ferry's confirmed ids for the queue)
 *   than it should, the queue is read again after a pause until {@link REREAD_WINDOW_MS} or the read
 *   budget runs out, and the last exact read is the answer. A shortfall that a later read made good is
 *   not hidden: it is printed and kept in `notes` for the loss account.
 */
import amqp, { type ChannelModel, type GetMessage } from 'amqplib';
import { type Delivery, deliveryOf } from '../faults/support/scorer.js';
import type { QueueCounts, QueuePlacement, ThrowawayCluster } from '../support/cluster.js';

/** How long one queue may take to give one exact read, retries after errors and early reads included. */
const DRAIN_TIMEOUT_MS = 90_000;
/** One read's bound: a `get` that hangs (a leader moving under it) ends the read, which is made again. */
const READ_TIMEOUT_MS = 30_000;
/**
 * Each `basic.get` waits for a Raft commit; several channels per queue let the leader batch them
 * (one channel took ≈14 s for 5,800 messages over five queues on the loaded test machine).
 */
const GET_CHANNELS = 4;
/** The pause before asking the queue again, after an error or while a closed read's messages return. */
const RETRY_PAUSE_MS = 500;
/** How long an exact read short of expected ids is repeated, and the pause between those reads. */
const REREAD_WINDOW_MS = 15_000;
const REREAD_PAUSE_MS = 2_000;

/** Reads made of each queue by this process: each may have raised every message's delivery count by one. */
const readsMade = new Map<string, number>();

/** Every member online and a leader: the state in which a read through the leader is the quorum's. */
export function settled(placement: QueuePlacement, nodes: number): boolean {
  return placement.leader !== undefined && placement.online.length === nodes;
}

/** What {@link drainQuorumQueues} checks its reads against, and where it says what it saw. */
export interface DrainOptions {
  /** Ids the queue must hold (ferry's confirmed ids for it); a read short of them is repeated. */
  readonly expected?: (queue: string) => ReadonlySet<string>;
  /** Reads each message must still be able to take after this drain, under the delivery limit. */
  readonly reserveReads?: number;
  /** Receives a line per queue whose reads were not one clean exact read (also printed). */
  readonly notes?: string[];
  /** How long a queue short of expected ids is read again; default {@link REREAD_WINDOW_MS}. */
  readonly rereadForMs?: number;
}

/**
 * Every message `queues` hold, each queue read exactly once through its current leader's node (see the
 * file's header), the messages left in the queues. Waits first until every queue has a leader and all
 * its members online.
 *
 * @throws naming the queue and what its reads saw, when no exact read was had within
 * {@link DRAIN_TIMEOUT_MS} or the delivery limit allows no further read.
 */
export async function drainQuorumQueues(
  cluster: ThrowawayCluster,
  queues: readonly string[],
  options: DrainOptions = {},
): Promise<Delivery[]> {
  const startedAt = Date.now();
  const ready = (placement: QueuePlacement): boolean => settled(placement, cluster.urls.length);
  await cluster.awaitPlacement(queues, ready);
  const drained = (
    await Promise.all(queues.map((queue) => readQueue(cluster, queue, ready, options)))
  ).flat();
  console.log(
    `[ferry-it] drain: ${queues.length} queues, ${drained.length} messages in ${Date.now() - startedAt} ms`,
  );
  return drained;
}

/** One read's outcome: what it held, and the queue's counts taken while it held them. */
interface Read {
  readonly held: Delivery[];
  readonly counts: QueueCounts;
}

async function readQueue(
  cluster: ThrowawayCluster,
  queue: string,
  ready: (placement: QueuePlacement) => boolean,
  options: DrainOptions,
): Promise<Delivery[]> {
  const startedAt = Date.now();
  const deadline = startedAt + DRAIN_TIMEOUT_MS;
  const expected = options.expected?.(queue);
  const history: string[] = [];
  let exact: { held: Delivery[]; missing: number } | undefined;
  let firstExactAt: number | undefined;
  const finish = (held: Delivery[], outcome: string): Delivery[] => {
    if (history.length > 1 || (exact?.missing ?? 0) > 0) {
      const note = `${queue}: ${history.join('; ')}; ${outcome}`;
      console.log(`[ferry-it] drain ${note}`);
      options.notes?.push(note);
    }
    return held;
  };
  for (let read = 1; ; read += 1) {
    const leader = (await cluster.awaitPlacement([queue], ready)).get(queue)?.leader ?? 0;
    const before = await awaitNothingHeld(cluster, queue, deadline);
    const made = readsMade.get(queue) ?? 0;
    const limit = before.deliveryLimit ?? Number.POSITIVE_INFINITY;
    if (made + 1 + (options.reserveReads ?? 0) > limit) {
      const spent = `no read ${read}: ${made} reads made and a delivery limit of ${limit}`;
      if (exact !== undefined) return finish(exact.held, spent);
      throw new Error(`${queue}: ${history.join('; ')}; ${spent}`);
    }
    readsMade.set(queue, made + 1);
    const seen = { deliveryCount: -1 };
    const outcome = await readHeld(cluster, leader, queue, seen).catch((error: unknown) => error);
    // A delivery count above our reads means someone else returned messages: count them as spent.
    readsMade.set(queue, Math.max(made + 1, seen.deliveryCount + 1));
    if (!isRead(outcome) || !complete(outcome)) {
      history.push(
        isRead(outcome)
          ? `read ${read} held ${outcome.held.length} of ${JSON.stringify(outcome.counts)}: discarded`
          : `read ${read} through node ${leader} failed: ${String(outcome)}`,
      );
      if (Date.now() > deadline) {
        throw new Error(`${queue}: no exact read within ${DRAIN_TIMEOUT_MS} ms: ${history.join('; ')}`);
      }
      await pause(RETRY_PAUSE_MS);
      continue;
    }
    const ids = new Set(outcome.held.map((delivery) => delivery.messageId));
    const missing = expected === undefined ? 0 : [...expected].filter((id) => !ids.has(id)).length;
    exact = { held: outcome.held, missing };
    firstExactAt ??= Date.now();
    history.push(
      `read ${read} exact: ${outcome.held.length} messages` +
        (expected === undefined ? '' : `, ${missing} of ${expected.size} expected ids missing`),
    );
    if (missing === 0) return finish(outcome.held, `complete after ${Date.now() - startedAt} ms`);
    const window = options.rereadForMs ?? REREAD_WINDOW_MS;
    if (Date.now() - firstExactAt > window) {
      return finish(outcome.held, `still short after ${window} ms of re-reads`);
    }
    await pause(REREAD_PAUSE_MS);
  }
}

/** Polls the queue's counts until nothing is checked out; resolves with them. */
async function awaitNothingHeld(
  cluster: ThrowawayCluster,
  queue: string,
  deadline: number,
): Promise<QueueCounts> {
  for (;;) {
    const counts = await cluster.queueCounts(queue).catch((error: unknown) => error);
    if (isCounts(counts) && counts.checkedOut === 0) return counts;
    if (Date.now() > deadline) {
      throw new Error(`${queue}: messages still checked out or no counts: ${JSON.stringify(counts)}`);
    }
    await pause(RETRY_PAUSE_MS);
  }
}

/**
 * Gets messages off `queue` through node `leader` on {@link GET_CHANNELS} channels, unacked, until each
 * channel has had an empty answer; takes the queue's counts while still holding them, then closes the
 * connection, which returns them all. `seen` keeps the highest `x-delivery-count`, also of a failed read.
 */
async function readHeld(
  cluster: ThrowawayCluster,
  leader: number,
  queue: string,
  seen: { deliveryCount: number },
): Promise<Read> {
  const connection = await amqp.connect(cluster.urls[leader]!);
  // An error also rejects the pending `get`; unheard, amqplib would throw it as an uncaught 'error'.
  connection.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    const held: Delivery[] = [];
    const loops = Promise.all(
      Array.from({ length: GET_CHANNELS }, async () => {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        for (;;) {
          const message = await channel.get(queue, { noAck: false });
          if (message === false) return;
          seen.deliveryCount = Math.max(seen.deliveryCount, deliveryCount(message));
          held.push(deliveryOf(message));
        }
      }),
    );
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no end within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
    });
    await Promise.race([loops, timeout]);
    return { held, counts: await cluster.queueCounts(queue) };
  } finally {
    clearTimeout(timer);
    await closeWithin(connection, RETRY_PAUSE_MS * 10);
  }
}

/** A read holds the whole queue: nothing else ready or checked out, nothing more in it. */
function complete({ held, counts }: Read): boolean {
  if (held.length > counts.total) {
    throw new Error(`held ${held.length} messages of a queue reporting ${JSON.stringify(counts)}`);
  }
  return counts.ready === 0 && counts.checkedOut === held.length && counts.total === held.length;
}

/**
 * Closes the connection, or gives up waiting after `timeoutMs`: a connection that stays open keeps its
 * messages checked out, which {@link awaitNothingHeld} then waits for, so nothing is read while they
 * are away.
 */
async function closeWithin(connection: ChannelModel, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    connection.close().catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

function isRead(value: unknown): value is Read {
  return typeof value === 'object' && value !== null && 'held' in value;
}

function isCounts(value: unknown): value is QueueCounts {
  return typeof value === 'object' && value !== null && 'checkedOut' in value;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The message's `x-delivery-count`: how often the queue has had it back (0 before the first return). */
function deliveryCount(message: GetMessage): number {
  return Number(message.properties.headers?.['x-delivery-count'] ?? 0);
}
