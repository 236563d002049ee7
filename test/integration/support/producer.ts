/**
 * Producers against a real broker: delays short enough for tests, every producer closed after its
 * test, and waits on `state$` and `status()` that fail at a deadline instead of hanging.
 */
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterEach } from 'vitest';
import type { MessageContext } from '../../../machines/message.machine.js';
import { messageActorId } from '../../../machines/supervisor.machine.js';
import type { ProducerOptions } from '../../../src/producer/options.js';
import { createProducer, type Producer } from '../../../src/producer/producer.js';
import type { PublishRequest } from '../../../src/producer/publish-request.js';
import type { ProducerStatus, SupervisorSummary } from '../../../src/producer/status.js';
import { mergeOptions } from '../../support/merge-options.js';

/**
 * Retry, reconnect and parking delays in tens of milliseconds: the defaults are seconds. Options laid
 * over these replace only the fields they name, so `retry: { maxAttempts: 10 }` keeps these delays (ten
 * attempts with ≈1.3 s of waits in all, not the default policy's ≈65 s): a test that means the default backoff
 * names its delays too, as test/cluster/rolling-restart-retry.ts does.
 */
export const FAST_OPTIONS: ProducerOptions = {
  closeTimeoutMs: 10_000,
  publish: { appId: 'ferry-it', timestamp: true },
  retry: { initialDelayMs: 20, maxDelayMs: 200, parkedDelayMs: 300 },
  connection: { reconnect: { initialDelayMs: 50, maxDelayMs: 500 } },
};

const made: Producer[] = [];

afterEach(async () => {
  for (const producer of made.splice(0)) await producer.close({ timeoutMs: 0 });
});

/** A producer with {@link FAST_OPTIONS} under `options`; closed after the test. Not started. */
export function testProducer(options: ProducerOptions): Producer {
  const producer = createProducer(mergeOptions(FAST_OPTIONS, options));
  made.push(producer);
  return producer;
}

/** Message `n` of a run: a small JSON body and a readable, unique message id. */
export function message(exchange: string, routingKey: string, run: string, n: number): PublishRequest {
  return { exchange, routingKey, messageId: `${run}-${n}`, body: { run, n, text: 'x'.repeat(200) } };
}

/** Resolves with the first `state$` emission that satisfies `predicate`; rejects after `timeoutMs`. */
export function stateWhere(
  producer: Producer,
  predicate: (summary: SupervisorSummary) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<SupervisorSummary> {
  return firstValueFrom(
    producer.state$.pipe(
      filter(predicate),
      timeout({
        first: timeoutMs,
        with: () => {
          throw new Error(
            `state$ did not show ${what} within ${timeoutMs} ms: ${JSON.stringify(producer.status())}`,
          );
        },
      }),
    ),
  );
}

/** Polls `status()` until `predicate` holds; rejects after `timeoutMs` with the last status. */
export async function statusWhere(
  producer: Producer,
  predicate: (status: ProducerStatus) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<ProducerStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = producer.status();
    if (predicate(status)) return status;
    if (Date.now() > deadline) {
      throw new Error(`status did not reach ${what} within ${timeoutMs} ms: ${JSON.stringify(status)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One connection phase `state$` reported, and when. */
export interface PhaseEntry {
  readonly phase: string;
  readonly at: number;
}

/** The connection phases `state$` reports, in order, repeats collapsed. */
export interface PhaseLog {
  readonly entries: readonly PhaseEntry[];
  /** The phases alone, for readable assertions. */
  phases(): string[];
  /**
   * The first loss of the connection at or after `since` and the first `connected` after it, in ms
   * since the epoch; `undefined` while that has not happened.
   */
  outage(since: number): { readonly lostAt: number; readonly recoveredAt: number | undefined } | undefined;
  unsubscribe(): void;
}

/** Records `state$`'s connection phases until `unsubscribe`. */
export function recordPhases(producer: Producer): PhaseLog {
  const entries: PhaseEntry[] = [];
  const subscription = producer.state$.subscribe((summary) => {
    if (entries.at(-1)?.phase !== summary.connection)
      entries.push({ phase: summary.connection, at: Date.now() });
  });
  return {
    entries,
    phases: () => entries.map((entry) => entry.phase),
    outage: (since) => {
      const lost = entries.findIndex(
        (entry) => entry.at >= since && entry.phase !== 'connected' && entry.phase !== 'blocked',
      );
      if (lost < 0) return undefined;
      const recovered = entries.slice(lost).find((entry) => entry.phase === 'connected');
      return { lostAt: (entries[lost] as PhaseEntry).at, recoveredAt: recovered?.at };
    },
    unsubscribe: () => subscription.unsubscribe(),
  };
}

/** The state and context of the message actor of `messageId`, while it has one (it left the healthy path). */
export function messageActor(
  producer: Producer,
  messageId: string,
): { readonly value: unknown; readonly context: MessageContext } | undefined {
  const child = producer.supervisor.getSnapshot().children[messageActorId(messageId)];
  if (child === undefined) return undefined;
  const snapshot = child.getSnapshot() as { value: unknown; context: MessageContext };
  return { value: snapshot.value, context: snapshot.context };
}
