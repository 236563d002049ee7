/**
 * Reads queues to the end and scores what they held against what ferry accepted, the way Jepsen's
 * RabbitMQ checker does: every accepted message id is delivered, dead-lettered (with its reason), still
 * held by the journal (parked), provably destroyed by the broker after it confirmed it, or lost; extra copies are duplicates, and anything that was never
 * accepted is unexpected. {@link report} prints the verdict and keeps it under `.fault-results/` for
 * `npx tsx scripts/reliability-report.ts`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp, { type ConsumeMessage, type Message } from 'amqplib';
import { expect } from 'vitest';
import { DEAD_LETTER_HEADERS } from '../../../src/producer/dead-letter-headers.js';

/** One message taken off a queue. */
export interface Delivery {
  readonly messageId: string | undefined;
  readonly content: Buffer;
  readonly properties: ConsumeMessage['properties'];
  readonly routingKey: string;
  readonly exchange: string;
}

/** A message amqplib handed over (consumed, or got with `basic.get`), as a {@link Delivery}. */
export function deliveryOf(message: Message): Delivery {
  return {
    messageId: message.properties.messageId as string | undefined,
    content: message.content,
    properties: message.properties,
    routingKey: message.fields.routingKey,
    exchange: message.fields.exchange,
  };
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
        deliveries.push(deliveryOf(message));
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
  /** Accepted ids delivered to the work queue at least once. */
  readonly delivered: number;
  /** Accepted ids not in the work queue but in the dead-letter queue. */
  readonly deadLettered: number;
  /** Dead-lettered ids by the reason in their headers (`x-ferry-reason`). */
  readonly deadLetterReasons: Readonly<Record<string, number>>;
  /** Accepted ids in neither queue that the journal still owns (parked): not lost, not finished. */
  readonly held: number;
  /**
   * Accepted ids in neither queue that the broker confirmed and then destroyed itself (their queue was
   * deleted under them): lost by the broker, not by ferry; reported, never hidden.
   */
  readonly droppedByBroker: number;
  /** Accepted, in neither queue, not held. Must be 0. */
  readonly lost: number;
  /** Extra copies of accepted ids over both queues (an id seen three times counts two). */
  readonly duplicated: number;
  /** Deliveries whose id was never accepted (or that had no id). */
  readonly unexpected: number;
  readonly lostIds: readonly string[];
  readonly heldIds: readonly string[];
  readonly droppedByBrokerIds: readonly string[];
  readonly duplicatedIds: ReadonlySet<string>;
  readonly unexpectedIds: readonly (string | undefined)[];
}

/** What else a run left besides the work queue's deliveries. */
export interface ScoreSources {
  /** What the dead-letter queue held. */
  readonly deadLetters?: readonly Pick<Delivery, 'messageId' | 'properties'>[];
  /** Ids the journal still owns after the run (parked or retrying). */
  readonly held?: Iterable<string>;
  /** Ids the scenario can show the broker confirmed and then destroyed (see {@link Score.droppedByBroker}). */
  readonly droppedByBroker?: Iterable<string>;
}

/** Scores deliveries (and dead letters, and what the journal still holds) against accepted ids. */
export function score(
  accepted: Iterable<string>,
  deliveries: readonly Pick<Delivery, 'messageId'>[],
  sources: ScoreSources = {},
): Score {
  const expected = new Set(accepted);
  const copies = new Map<string, number>();
  const inQueue = new Set<string>();
  const reasons = new Map<string, string>();
  const unexpectedIds: (string | undefined)[] = [];
  const count = (messageId: string | undefined): boolean => {
    if (messageId === undefined || !expected.has(messageId)) {
      unexpectedIds.push(messageId);
      return false;
    }
    copies.set(messageId, (copies.get(messageId) ?? 0) + 1);
    return true;
  };
  for (const { messageId } of deliveries) if (count(messageId)) inQueue.add(messageId as string);
  for (const { messageId, properties } of sources.deadLetters ?? []) {
    if (count(messageId) && !reasons.has(messageId as string)) {
      reasons.set(messageId as string, String(properties.headers?.[DEAD_LETTER_HEADERS.reason] ?? 'none'));
    }
  }
  const held = new Set(sources.held ?? []);
  const dropped = new Set(sources.droppedByBroker ?? []);
  const droppedByBrokerIds: string[] = [];
  const deadLetterReasons: Record<string, number> = {};
  const heldIds: string[] = [];
  const lostIds: string[] = [];
  let deadLettered = 0;
  for (const id of expected) {
    if (inQueue.has(id)) continue;
    const reason = reasons.get(id);
    if (reason !== undefined) {
      deadLettered += 1;
      deadLetterReasons[reason] = (deadLetterReasons[reason] ?? 0) + 1;
    } else if (held.has(id)) heldIds.push(id);
    else if (dropped.has(id)) droppedByBrokerIds.push(id);
    else lostIds.push(id);
  }
  const duplicatedIds = new Set<string>();
  let duplicated = 0;
  for (const [id, n] of copies) {
    if (n > 1) {
      duplicatedIds.add(id);
      duplicated += n - 1;
    }
  }
  return {
    accepted: expected.size,
    delivered: inQueue.size,
    deadLettered,
    deadLetterReasons,
    held: heldIds.length,
    droppedByBroker: droppedByBrokerIds.length,
    lost: lostIds.length,
    duplicated,
    unexpected: unexpectedIds.length,
    lostIds,
    heldIds,
    droppedByBrokerIds,
    duplicatedIds,
    unexpectedIds,
  };
}

/** Where {@link report} keeps one JSON row per scenario (gitignored). */
export const FAULT_RESULTS_DIR = fileURLToPath(new URL('../../../.fault-results/', import.meta.url));

/** One scenario's row as `scripts/reliability-report.ts` reads it. */
export interface ResultRow {
  readonly scenario: string;
  /** The test file, relative to the repository. */
  readonly file: string;
  readonly accepted: number;
  readonly delivered: number;
  readonly deadLettered: number;
  readonly held: number;
  readonly droppedByBroker: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly unexpected: number;
  /** From the end of the fault until ferry was back to normal; absent when the run had no outage. */
  readonly recoveryMs: number | null;
  readonly extra: Readonly<Record<string, unknown>>;
  readonly at: string;
}

/**
 * Prints one line per scenario so that a run's log shows the verdicts next to the test names, and
 * writes the row to `.fault-results/<scenario>.json`. `extra.recoveryMs` (or `extra.outageMs`) is the
 * recovery time the table shows.
 */
export function report(
  scenario: string,
  verdict: Score,
  extra: Readonly<Record<string, unknown>> = {},
): void {
  const { accepted, delivered, deadLettered, held, droppedByBroker, lost, duplicated, unexpected } = verdict;
  const counts = { accepted, delivered, deadLettered, held, droppedByBroker, lost, duplicated, unexpected };
  console.log(`[ferry-it] ${scenario}: ${JSON.stringify({ ...counts, ...extra })}`);
  const recovery = extra.recoveryMs ?? extra.outageMs;
  const testPath = expect.getState().testPath;
  const row: ResultRow = {
    scenario,
    file:
      testPath === undefined ? '' : relative(fileURLToPath(new URL('../../../', import.meta.url)), testPath),
    ...counts,
    recoveryMs: typeof recovery === 'number' && Number.isFinite(recovery) ? Math.round(recovery) : null,
    extra,
    at: new Date().toISOString(),
  };
  mkdirSync(FAULT_RESULTS_DIR, { recursive: true });
  writeFileSync(`${FAULT_RESULTS_DIR}${basename(scenario)}.json`, `${JSON.stringify(row, null, 2)}\n`);
}
