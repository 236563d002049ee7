/**
 * One fault scenario, Jepsen-style: a producer streams a few thousand messages with unique ids, the
 * fault starts at a seeded random moment and heals once the scenario says so, and then every accepted
 * id is accounted for (delivered, dead-lettered with its reason, held by the journal, or lost) and the
 * run is checked against what ferry documents: nothing lost; duplicates only for unknown outcomes; no
 * `publish()` waiting past `bufferTimeoutMs`; no hot loop while the fault lasts; only documented
 * connection phases on `state$`.
 *
 * The seed is printed; `FERRY_FAULT_SEED=<seed>` replays a run's fault moments and jitter.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, expect } from 'vitest';
import { drawRandom, seedRandom } from '../../../machines/random.js';
import type { JournalEvent } from '../../../src/journal/journal.js';
import { MemoryJournal } from '../../../src/journal/memory-journal.js';
import { CONNECTION_STATE_VALUES } from '../../../src/metrics/connection-state.js';
import { PRODUCER_DEFAULTS } from '../../../src/producer/defaults.js';
import type { ProducerOptions } from '../../../src/producer/options.js';
import { createProducer, type Producer } from '../../../src/producer/producer.js';
import type { PublishRequest } from '../../../src/producer/publish-request.js';
import type { PublishReceipt, Settlement } from '../../../src/producer/receipt.js';
import type { ProducerStatus } from '../../../src/producer/status.js';
import type { TestTopology } from '../../integration/support/broker-objects.js';
import { FAST_OPTIONS, message, type PhaseLog, recordPhases } from '../../integration/support/producer.js';
import { mergeOptions } from '../../support/merge-options.js';
import { type Delivery, drainQueue, report, type Score, score } from './scorer.js';

/** The run's seed: `FERRY_FAULT_SEED`, or a fresh one; printed so that a failure can be replayed. */
export function faultSeed(file: string): number {
  const fromEnv = process.env.FERRY_FAULT_SEED;
  const seed = fromEnv === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(fromEnv);
  console.log(`[ferry-faults] ${file}: seed ${seed} (replay with FERRY_FAULT_SEED=${seed})`);
  return seed;
}

/** A generator in [0, 1) for one scenario, from the run's seed and the scenario's name. */
export function scenarioRandom(seed: number, scenario: string): () => number {
  let state = seedRandom(seed ^ [...scenario].reduce((hash, c) => (hash * 31 + c.charCodeAt(0)) | 0, 7));
  return () => {
    const draw = drawRandom(state);
    state = draw.next;
    return draw.value;
  };
}

/** Whether `FERRY_SOAK` asks for the long runs. */
export const SOAK = process.env.FERRY_SOAK !== undefined && process.env.FERRY_SOAK !== '';

/**
 * A memory journal that also counts the unknown outcomes `status()` does not: a retry or a dead-letter
 * hand-off on the wire when its connection died is journaled as a `CONNECTION_LOST` failure or as
 * parked, and may have reached the broker (a possible duplicate). `redelivered` counts only healthy-path
 * messages.
 */
export class CountingJournal extends MemoryJournal {
  /** Journaled `CONNECTION_LOST` failures and parked hand-offs: an upper bound of such writes. */
  unknownRetryWrites = 0;

  override append(event: JournalEvent): void {
    if ((event.type === 'failed' && event.failure.code === 'CONNECTION_LOST') || event.type === 'parked') {
      this.unknownRetryWrites += 1;
    }
    super.append(event);
  }
}

/** A fault producer: {@link FAST_OPTIONS}, a journal the score can read, closed after its test. */
export interface FaultProducer {
  readonly producer: Producer;
  readonly journal: CountingJournal;
  readonly options: ProducerOptions;
}

const made: Producer[] = [];
afterEach(async () => {
  for (const producer of made.splice(0)) await producer.close({ timeoutMs: 0 });
});

/** Creates (does not start) a producer for a fault run. */
export function faultProducer(options: ProducerOptions): FaultProducer {
  const journal = new CountingJournal();
  const merged = mergeOptions(FAST_OPTIONS, options);
  const producer = createProducer(merged, { journal });
  made.push(producer);
  return { producer, journal, options: merged };
}

/** What a scenario's callbacks can look at while the fault lasts. */
export interface RunView {
  readonly producer: Producer;
  readonly phases: PhaseLog;
  /** When the fault was injected, ms since the epoch. */
  readonly injectedAt: number;
  /** Messages accepted so far. */
  readonly accepted: number;
}

/** A scenario for {@link runFault}. */
export interface FaultScenario {
  readonly scenario: string;
  readonly run: FaultProducer;
  readonly names: TestTopology;
  /** The broker the queues are drained from. */
  readonly brokerUrl: string;
  readonly random: () => number;
  /**
   * Messages in all, at least; the fault starts after 10–50 % of them, at a seeded moment, and the
   * stream goes on until the heal begins.
   */
  readonly messages: number;
  /**
   * Messages published per tick (a tick about every 5 ms); default 5, about 1,000 a second. Fewer keep
   * a multi-node cluster on a small machine at a modest load through a long fault.
   */
  readonly perTick?: number;
  /** Message `n`; {@link message} to the work queue by default. */
  readonly request?: (n: number) => PublishRequest;
  /** Starts the fault; the stream goes on meanwhile. */
  inject(): unknown;
  /** Polled after the fault began: whether it is time to heal. */
  healWhen(view: RunView): boolean;
  /** Ends the fault. */
  heal(): unknown;
  /** Whether the fault must cost a reconnect (`true`), must not (`false`), or may (`undefined`). */
  readonly reconnects?: boolean;
  /** Back to normal after the heal; default: connected (not blocked), nothing buffered or retrying. */
  readonly recovered?: (status: ProducerStatus) => boolean;
  /**
   * What the work queue held; drained after the run by default. Given every settled receipt's outcome,
   * so that a reader can check what it found against what ferry was told.
   */
  readonly collect?: (
    outcomes: ReadonlyMap<string, Settlement | 'unsettled'>,
  ) => Promise<readonly Delivery[]>;
  /** What the dead-letter queue held; drained after the run by default. Given outcomes as `collect` is. */
  readonly collectDeadLetters?: (
    outcomes: ReadonlyMap<string, Settlement | 'unsettled'>,
  ) => Promise<readonly Delivery[]>;
  /**
   * Why the event loop may be busy while the fault lasts (every message takes the retry path): the
   * hot-loop check then counts only connection attempts.
   */
  readonly workDuringFault?: string;
  /**
   * Ids the broker confirmed and then destroyed, as the scenario can prove from when each receipt
   * settled (ms since the epoch); only ids found in neither queue are asked about.
   */
  readonly droppedByBroker?: (
    settledAt: ReadonlyMap<string, number>,
    outcomes: ReadonlyMap<string, Settlement | 'unsettled'>,
  ) => Iterable<string>;
  /**
   * An account of lost ids for the failed assertion's message (what the broker still reports, where
   * the logs are): a run that lost messages then says more than which ids.
   */
  readonly explainLoss?: (
    lostIds: readonly string[],
    outcomes: ReadonlyMap<string, Settlement | 'unsettled'>,
  ) => Promise<string>;
  /** Longest the fault may take to reach its heal condition; default 30 s. */
  readonly faultTimeoutMs?: number;
}

/** What a run measured, for further assertions. */
export interface FaultRunResult {
  readonly verdict: Score;
  readonly status: ProducerStatus;
  readonly outcomes: ReadonlyMap<string, Settlement | 'unsettled'>;
  /** Writes whose outcome was unknown besides `redelivered` (confirm timeout, channel lost, retries cut off). */
  readonly unknownOutcomes: number;
  readonly recoveryMs: number;
  readonly phases: readonly string[];
}

/** Messages per tick, a tick about every 5 ms: a load generator's pace, about 1,000 messages a second. */
const CHUNK = 5;
const TICK_MS = 5;
const SETTLE_TIMEOUT_MS = 60_000;
/** A loop that does nothing but spin shows up as a busy event loop; a backoff leaves it mostly idle. */
const MAX_EVENT_LOOP_UTILISATION = 0.9;

/** Runs one scenario end to end and asserts ferry's guarantees; prints and records the verdict. */
export async function runFault(spec: FaultScenario): Promise<FaultRunResult> {
  const { producer, journal, options } = spec.run;
  const request =
    spec.request ?? ((n: number) => message(spec.names.exchange, spec.names.queue, spec.scenario, n));
  const unknown = { 'confirm-timeout': 0, 'channel-lost': 0 };
  let connectAttempts = 0;
  const stopObserving = producer.observe({
    accepted: () => undefined,
    answered: (outcome) => {
      if (outcome === 'confirm-timeout' || outcome === 'channel-lost') unknown[outcome] += 1;
    },
    settled: () => undefined,
    retried: () => undefined,
    connecting: () => {
      connectAttempts += 1;
    },
  });
  const phases = recordPhases(producer);
  await producer.start();

  const faultAt = Math.floor(spec.messages * (0.1 + 0.4 * spec.random()));
  const receipts: PublishReceipt[] = [];
  const settledAt = new Map<string, number>();
  let maxAcceptMs = 0;
  let injectedAt = 0;
  let healedAt = 0;
  let attemptsAtInject = 0;
  let attemptsAtHeal = 0;
  let elu: ReturnType<typeof performance.eventLoopUtilization> | undefined;
  let faultElu = 0;
  let recoveredAt = 0;
  let injected = false;
  let healing = false;
  let healStartedAt = 0;
  let faultError: unknown;
  const track = (work: unknown, done: () => void): void => {
    Promise.resolve(work).then(done, (error: unknown) => {
      faultError = error;
    });
  };
  // Recovered: nothing buffered, retrying or parked (the status counts parked messages apart from
  // retrying ones; a parked message's hand-off working again is part of the recovery).
  const recovered =
    spec.recovered ??
    ((status: ProducerStatus) =>
      status.connection.phase === 'connected' &&
      status.messages.buffered === 0 &&
      status.messages.retrying === 0 &&
      status.messages.parked === 0);
  while (receipts.length < spec.messages || healedAt === 0) {
    // The stream goes on through the whole fault, past `messages` if the fault lasts that long.
    if (receipts.length < spec.messages || !healing) {
      const batch = Array.from({ length: spec.perTick ?? CHUNK }, (_, i) => request(receipts.length + i));
      const started = performance.now();
      const accepted = await Promise.all(batch.map((r) => producer.publish(r)));
      for (const receipt of accepted) {
        receipt.settled.then(
          () => settledAt.set(receipt.messageId, Date.now()),
          () => undefined,
        );
      }
      receipts.push(...accepted);
      maxAcceptMs = Math.max(maxAcceptMs, performance.now() - started);
    }
    // The fault's own commands (rabbitmqctl takes a second) run beside the stream, not in its way.
    if (faultError !== undefined) throw faultError;
    if (injectedAt === 0 && receipts.length >= faultAt) {
      attemptsAtInject = connectAttempts;
      elu = performance.eventLoopUtilization();
      injectedAt = Date.now();
      track(spec.inject(), () => {
        injected = true;
      });
    } else if (injected && healing === false) {
      const view = { producer, phases, injectedAt, accepted: receipts.length };
      if (spec.healWhen(view)) {
        healing = true;
        faultElu = performance.eventLoopUtilization(elu).utilization;
        attemptsAtHeal = connectAttempts;
        healStartedAt = Date.now();
        track(spec.heal(), () => {
          healedAt = Date.now();
        });
      } else if (Date.now() - injectedAt > (spec.faultTimeoutMs ?? 30_000)) {
        throw new Error(
          `${spec.scenario}: the heal condition never held: ${JSON.stringify(producer.status())}`,
        );
      }
    }
    if (healedAt > 0 && recoveredAt === 0 && recovered(producer.status())) recoveredAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  if (recoveredAt === 0) {
    await pollUntil(
      () => recovered(producer.status()),
      SETTLE_TIMEOUT_MS,
      () => JSON.stringify(producer.status()),
    );
    recoveredAt = Date.now();
  }
  const recoveryMs = recoveredAt - healedAt;

  // Parked messages stay with the journal and settle only once their hand-off works: not waited for.
  const held = new Set(
    journal
      .snapshot()
      .filter((pending) => pending.parked)
      .map((pending) => pending.message.messageId),
  );
  const outcomes = await settleAll(
    receipts.filter((receipt) => !held.has(receipt.messageId)),
    SETTLE_TIMEOUT_MS,
  );
  const status = producer.status();
  stopObserving();
  phases.unsubscribe();
  await producer.close({ timeoutMs: 0 });

  const deliveries = await (spec.collect?.(outcomes) ?? drainQueue(spec.brokerUrl, spec.names.queue));
  const deadLetters = await (spec.collectDeadLetters?.(outcomes) ??
    drainQueue(spec.brokerUrl, spec.names.deadLetterQueue));
  const verdict = score(
    receipts.map((receipt) => receipt.messageId),
    deliveries,
    { deadLetters, held, droppedByBroker: spec.droppedByBroker?.(settledAt, outcomes) ?? [] },
  );
  const unknownOutcomes = unknown['confirm-timeout'] + unknown['channel-lost'] + journal.unknownRetryWrites;
  const faultMs = healStartedAt - injectedAt;
  const attemptsDuringFault = attemptsAtHeal - attemptsAtInject;
  report(spec.scenario, verdict, {
    recoveryMs,
    faultMs,
    faultAt,
    redelivered: status.messages.redelivered,
    confirmTimeouts: unknown['confirm-timeout'],
    channelLost: unknown['channel-lost'],
    retryWritesCutOff: journal.unknownRetryWrites,
    reconnects: status.connection.reconnects,
    connectAttemptsDuringFault: attemptsDuringFault,
    eventLoopUtilisationDuringFault: Number(faultElu.toFixed(3)),
    maxAcceptMs: Math.round(maxAcceptMs),
    deadLetterReasons: verdict.deadLetterReasons,
  });

  // Nothing accepted is lost; nothing appears that was not accepted.
  const lossAccount =
    verdict.lostIds.length > 0 && spec.explainLoss !== undefined
      ? `\n${await spec.explainLoss(verdict.lostIds, outcomes)}\n`
      : '';
  expect(verdict.lostIds, `${spec.scenario}: lost ids${lossAccount}`).toEqual([]);
  expect(verdict.unexpected).toBe(0);
  // Duplicates only where the outcome of a write was unknown.
  expect(verdict.duplicated).toBeLessThanOrEqual(status.messages.redelivered + unknownOutcomes);
  // Every receipt settled, except messages the journal still holds (parked): those are not dropped.
  const unsettled = [...outcomes].filter(([, outcome]) => outcome === 'unsettled').map(([id]) => id);
  expect(unsettled, `${spec.scenario}: receipts that never settled`).toEqual([]);
  // publish() resolves once accepted, waiting at most buffer.timeoutMs for room.
  expect(maxAcceptMs).toBeLessThan(options.buffer?.timeoutMs ?? PRODUCER_DEFAULTS.buffer.timeoutMs);
  // No hot loop: a reconnect every initialDelayMs at most, and an event loop that is mostly idle.
  const initialDelayMs =
    options.connection?.reconnect?.initialDelayMs ?? PRODUCER_DEFAULTS.connection.reconnect.initialDelayMs;
  expect(attemptsDuringFault).toBeLessThanOrEqual(2 + Math.ceil(faultMs / initialDelayMs));
  // Over a window long enough to tell a spinning loop from the burst of work a fault brings.
  if (faultMs >= 1_000 && spec.workDuringFault === undefined)
    expect(faultElu).toBeLessThan(MAX_EVENT_LOOP_UTILISATION);
  // Only phases the connection machine documents.
  const documented = Object.keys(CONNECTION_STATE_VALUES);
  expect(phases.phases().filter((phase) => !documented.includes(phase))).toEqual([]);
  if (spec.reconnects === true) {
    expect(phases.phases().join(' → ')).toMatch(/connected → (reconnecting|failed)( → \w+)* → connected/);
    expect(status.connection.reconnects).toBeGreaterThanOrEqual(1);
  } else if (spec.reconnects === false) {
    expect(status.connection.reconnects).toBe(0);
  }
  return { verdict, status, outcomes, unknownOutcomes, recoveryMs, phases: phases.phases() };
}

/** Polls `check` every 10 ms; rejects with `describe()` after `timeoutMs`. */
export async function pollUntil(
  check: () => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Each receipt's outcome, or `unsettled` for those still open at the deadline. */
async function settleAll(
  receipts: readonly PublishReceipt[],
  timeoutMs: number,
): Promise<Map<string, Settlement | 'unsettled'>> {
  const outcomes = new Map<string, Settlement | 'unsettled'>();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  const all = Promise.all(
    receipts.map((receipt) =>
      receipt.settled.then(
        (outcome) => {
          outcomes.set(receipt.messageId, outcome);
        },
        () => undefined,
      ),
    ),
  );
  await Promise.race([all, deadline]);
  clearTimeout(timer);
  for (const receipt of receipts)
    if (!outcomes.has(receipt.messageId)) outcomes.set(receipt.messageId, 'unsettled');
  return outcomes;
}
