/**
 * Reads a queue to the end and scores what it held against what ferry accepted, the way Jepsen's
 * RabbitMQ checker does: every accepted message id is delivered, lost or duplicated, and anything that
 * was never accepted is unexpected.
 */
import amqp, { type ConsumeMessage } from 'amqplib';

/** One message taken off a queue. */
export interface Delivery {
  readonly messageId: string | undefined;
  readonly content: Buffer;
  readonly properties: ConsumeMessage['properties'];
  readonly routingKey: string;
  readonly exchange: string;
}

/**
 * Takes every message off `queue` (auto-ack) and returns them in delivery order. Call it once nothing
 * publishes to the queue any more (the producer closed or all its receipts settled): it reads as many
 * messages as the queue reports, then asks again until the queue reports none.
 *
 * @throws when the queue does not hand over what it reported within `timeoutMs`.
 */
export async function drainQueue(url: string, queue: string, timeoutMs = 30_000): Promise<Delivery[]> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    const deliveries: Delivery[] = [];
    let target = (await channel.checkQueue(queue)).messageCount;
    if (target === 0) return deliveries;
    let wake: (() => void) | undefined;
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (message === null) return;
        deliveries.push({
          messageId: message.properties.messageId as string | undefined,
          content: message.content,
          properties: message.properties,
          routingKey: message.fields.routingKey,
          exchange: message.fields.exchange,
        });
        if (deliveries.length >= target) wake?.();
      },
      { noAck: true },
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (deliveries.length < target) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () =>
              reject(
                new Error(`${queue}: ${deliveries.length} of ${target} messages within ${timeoutMs} ms`),
              ),
            Math.max(0, deadline - Date.now()),
          );
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      const left = (await channel.checkQueue(queue)).messageCount;
      if (left === 0) break;
      target = deliveries.length + left;
    }
    await channel.cancel(consumerTag);
    return deliveries;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** A Jepsen-style verdict for one run. */
export interface Score {
  /** Message ids ferry accepted (receipts handed out). */
  readonly accepted: number;
  /** Accepted ids delivered at least once. */
  readonly delivered: number;
  /** Accepted, never delivered. Must be 0. */
  readonly lost: number;
  /** Extra deliveries of accepted ids (an id delivered three times counts two). */
  readonly duplicated: number;
  /** Deliveries whose id was never accepted (or that had no id). */
  readonly unexpected: number;
  readonly lostIds: readonly string[];
  readonly duplicatedIds: ReadonlySet<string>;
  readonly unexpectedIds: readonly (string | undefined)[];
}

/** Scores deliveries against accepted ids. */
export function score(accepted: Iterable<string>, deliveries: readonly Pick<Delivery, 'messageId'>[]): Score {
  const expected = new Set(accepted);
  const seen = new Map<string, number>();
  const unexpectedIds: (string | undefined)[] = [];
  for (const { messageId } of deliveries) {
    if (messageId === undefined || !expected.has(messageId)) {
      unexpectedIds.push(messageId);
      continue;
    }
    seen.set(messageId, (seen.get(messageId) ?? 0) + 1);
  }
  const lostIds = [...expected].filter((id) => !seen.has(id));
  const duplicatedIds = new Set<string>();
  let duplicated = 0;
  for (const [id, count] of seen) {
    if (count > 1) {
      duplicatedIds.add(id);
      duplicated += count - 1;
    }
  }
  return {
    accepted: expected.size,
    delivered: seen.size,
    lost: lostIds.length,
    duplicated,
    unexpected: unexpectedIds.length,
    lostIds,
    duplicatedIds,
    unexpectedIds,
  };
}

/** Prints one line per scenario so that a run's log shows the verdicts next to the test names. */
export function report(
  scenario: string,
  verdict: Score,
  extra: Readonly<Record<string, unknown>> = {},
): void {
  const { accepted, delivered, lost, duplicated, unexpected } = verdict;
  console.log(
    `[ferry-it] ${scenario}: ${JSON.stringify({ accepted, delivered, lost, duplicated, unexpected, ...extra })}`,
  );
}
