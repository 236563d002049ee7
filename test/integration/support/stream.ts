/**
 * A steady stream of publishes with a fault injected mid-stream, for the tests that break a broker:
 * the stream starts before the fault, goes on through it, and continues after the recovery, so that
 * messages are accepted in every phase (connected, disconnected, reconnected).
 */
import { expect } from 'vitest';
import type { ProducerOptions } from '../../../src/producer/options.js';
import type { Producer } from '../../../src/producer/producer.js';
import type { PublishReceipt } from '../../../src/producer/receipt.js';
import { drainQueue, report, type Score, score } from '../../faults/support/scorer.js';
import { mergeOptions } from '../../support/merge-options.js';
import type { ThrowawayBroker } from '../../support/throwaway-broker.js';
import { uniqueTopology } from './broker-objects.js';
import { message, recordPhases, testProducer } from './producer.js';

/** Options of {@link streamThroughFault}. */
interface FaultStream {
  readonly producer: Producer;
  readonly exchange: string;
  readonly routingKey: string;
  /** Message id prefix. */
  readonly run: string;
  /** Messages accepted before the fault is injected. */
  readonly faultAfter: number;
  /** Injects the fault (and, for a restart, undoes it); the stream goes on meanwhile. */
  readonly fault: () => Promise<void>;
  /** Whether the producer has recovered from the fault started at `faultStartedAt`; checked once it resolved. */
  readonly recovered: (faultStartedAt: number) => boolean;
  /** Messages accepted after the recovery, so that the reconnected session carries traffic too. */
  readonly afterRecovery: number;
  /** The stream never ends with fewer messages than this. */
  readonly minimum: number;
  /** The stream fails when the producer has not recovered this long after the fault; default 60 s. */
  readonly recoveryTimeoutMs?: number;
}

/** What a stream accepted and when its fault ran. */
interface StreamResult {
  readonly receipts: readonly PublishReceipt[];
  readonly faultStartedAt: number;
  readonly faultEndedAt: number;
}

/** Messages per tick, and ticks about every 5 ms: about 1,000 messages a second. */
const CHUNK = 5;
const TICK_MS = 5;

/**
 * Publishes at a steady pace (a load generator's pace, not a wait for anything), injects the fault
 * after `faultAfter` messages, and stops once the fault is over, the producer recovered,
 * `afterRecovery` more messages were accepted and at least `minimum` in all.
 */
async function streamThroughFault(options: FaultStream): Promise<StreamResult> {
  const receipts: PublishReceipt[] = [];
  let fault: Promise<void> | undefined;
  let faultStartedAt = 0;
  let faultEndedAt = 0;
  let faultError: unknown;
  let recoveredAt: number | undefined;
  for (;;) {
    const batch = Array.from({ length: CHUNK }, (_, i) =>
      message(options.exchange, options.routingKey, options.run, receipts.length + i),
    );
    receipts.push(...(await Promise.all(batch.map((request) => options.producer.publish(request)))));
    if (fault === undefined && receipts.length >= options.faultAfter) {
      faultStartedAt = Date.now();
      fault = options.fault().then(
        () => {
          faultEndedAt = Date.now();
        },
        (error: unknown) => {
          faultError = error;
          faultEndedAt = Date.now();
        },
      );
    }
    if (faultError !== undefined) throw faultError;
    if (recoveredAt === undefined && faultEndedAt > 0) {
      if (options.recovered(faultStartedAt)) recoveredAt = receipts.length;
      else if (Date.now() - faultEndedAt > (options.recoveryTimeoutMs ?? 60_000)) {
        throw new Error(`no recovery after the fault: ${JSON.stringify(options.producer.status())}`);
      }
    }
    if (
      recoveredAt !== undefined &&
      receipts.length >= Math.max(options.minimum, recoveredAt + options.afterRecovery)
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  await fault;
  return { receipts, faultStartedAt, faultEndedAt };
}

/** Connected, then the loss, any number of further attempts, and connected again. */
const RECONNECTED = /connected → reconnecting( → (connecting|reconnecting))* → connected/;

/**
 * The whole fault scenario on a throwaway node: a producer with unique objects streams at least
 * 5,000 messages, `fault` runs after the first 1,000, and the stream goes on for 1,000 more after
 * the reconnect. Asserts that `state$` went connected → reconnecting → … → connected, that every
 * receipt settled `confirmed`, that nothing was lost or unexpected, and that duplicates are no more
 * than the messages that were unconfirmed when their connection died; prints the verdict.
 */
export async function surviveFault(
  scenario: string,
  broker: ThrowawayBroker,
  fault: () => Promise<void>,
  options: ProducerOptions = {},
): Promise<Score> {
  const names = uniqueTopology(scenario);
  const producer = testProducer(
    mergeOptions(names.producerOptions, options, { connection: { url: broker.url } }),
  );
  await producer.start();
  const log = recordPhases(producer);
  const result = await streamThroughFault({
    producer,
    exchange: names.exchange,
    routingKey: names.queue,
    run: scenario,
    faultAfter: 1_000,
    fault,
    recovered: (since) => log.outage(since)?.recoveredAt !== undefined,
    afterRecovery: 1_000,
    minimum: 5_000,
  });
  const outcomes = await Promise.all(result.receipts.map((receipt) => receipt.settled));
  const status = producer.status();
  await producer.close();
  log.unsubscribe();
  expect(outcomes.every((outcome) => outcome === 'confirmed')).toBe(true);
  expect(log.phases().join(' → ')).toMatch(RECONNECTED);
  expect(status.connection.reconnects).toBeGreaterThanOrEqual(1);

  const outage = log.outage(result.faultStartedAt);
  const verdict = score(
    result.receipts.map((receipt) => receipt.messageId),
    await drainQueue(broker.url, names.queue),
  );
  report(scenario, verdict, {
    redelivered: status.messages.redelivered,
    connectAttempts: log.phases().filter((phase) => phase === 'connecting').length,
    outageMs: (outage?.recoveredAt ?? Number.NaN) - (outage?.lostAt ?? Number.NaN),
    faultMs: result.faultEndedAt - result.faultStartedAt,
  });
  expect(verdict).toMatchObject({ delivered: result.receipts.length, lost: 0, unexpected: 0 });
  expect(verdict.duplicated).toBeLessThanOrEqual(status.messages.redelivered);
  return verdict;
}
