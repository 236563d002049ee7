/**
 * The work every client does, and what a child process reports back: shared by the runner
 * (`bench/run.ts`), the child (`bench/child.ts`) and the adapters under `bench/clients/`.
 */

/** The variants of the work; see `docs/benchmarks.md` for what each measures. */
export const VARIANTS = ['routed', 'client-bound', 'sequential', 'outstanding', 'recovery'] as const;
export type Variant = (typeof VARIANTS)[number];

/** Where a run publishes to. */
export interface Target {
  readonly url: string;
  /** A durable direct exchange, created by the runner. */
  readonly exchange: string;
  readonly routingKey: string;
  /** The queue the routing key leads to (the client-bound variant's queue keeps nothing). */
  readonly queue: string;
  /** The exchange's alternate exchange and its queue, for ferry's `unroutable` option. */
  readonly unroutable: { readonly alternateExchange: string; readonly queue: string };
}

/** What the runner asks one child process to do. */
export interface Job {
  readonly client: string;
  readonly variant: Variant;
  readonly messages: number;
  readonly target: Target;
  /** Message id prefix, unique per run. */
  readonly run: string;
  /** Scratch folder for files a client needs (ferry's sqlite journal). */
  readonly scratch: string;
  /** Recovery only: how long to publish at the steady rate before and after the forced close. */
  readonly recovery?: RecoveryPlan;
}

/** The recovery variant's stream: a steady rate, the forced close, a tail after the resume. */
export interface RecoveryPlan {
  /** Messages per second (in ticks of {@link RECOVERY_TICK_MS}). */
  readonly rate: number;
  /** Publishing time before the child asks for the close, ms. */
  readonly beforeMs: number;
  /** Publishing time after the first confirm following the close, ms. */
  readonly afterMs: number;
  /** Give up waiting for the resume after this long, ms. */
  readonly resumeTimeoutMs: number;
  /** Initial reconnect delay every client is tuned to, ms. */
  readonly reconnectDelayMs: number;
}

/**
 * Routing keys the channel-pool clients spread messages over (`<target routing key>.<n>`), each bound
 * to the target's queue: one routing key would put every message on one channel of the pool.
 */
export const SPREAD_KEYS = 8;

/** The `n`th message's routing key when spread over {@link SPREAD_KEYS} keys. */
export function spreadKey(routingKey: string, n: number): string {
  return `${routingKey}.${n % SPREAD_KEYS}`;
}

/** Recovery ticks: `rate / (1000 / RECOVERY_TICK_MS)` messages every tick. */
export const RECOVERY_TICK_MS = 5;

/** One message of the workload: its id and the object its JSON body is built from. */
export interface BenchMessage {
  readonly id: string;
  readonly body: Record<string, unknown>;
}

/** A client's measurements of one run, sent by the child to the runner. */
export interface Measurement {
  readonly client: string;
  readonly variant: Variant;
  readonly messages: number;
  /** First publish → last confirm, ms. */
  readonly elapsedMs: number;
  /** User + system CPU of the child over the same window, µs. */
  readonly cpuMicros: number;
  /** `process.resourceUsage().maxRSS` at the end of the run, KiB. */
  readonly maxRssKiB: number;
  /** RSS once the client was connected, before the first publish, KiB: the process's baseline. */
  readonly startRssKiB: number;
  /** Publishes whose promise (or callback) reported an error. */
  readonly failed: number;
  /** Recovery only. */
  readonly recovery?: RecoveryMeasurement;
}

/** What the recovery variant measures in the child; lost and duplicated are counted by the runner. */
export interface RecoveryMeasurement {
  /** Message ids whose publish the client reported as confirmed (ferry: `receipt.settled` resolved). */
  readonly confirmedIds: readonly string[];
  /** Message ids whose publish failed (reported to the caller). */
  readonly failedIds: readonly string[];
  /** How many messages the child handed to the client (ids `run-000000` upwards). */
  readonly attempted: number;
  /**
   * The resume time: the longest silence between two confirms that ends after the close was asked
   * for (last confirm before the close → first confirm after it), ms; NaN if confirms never resumed.
   */
  readonly confirmGapMs: number;
}

/** Messages from child to runner over the IPC channel. */
export type ChildMessage =
  | { readonly type: 'close-connections' }
  | { readonly type: 'result'; readonly measurement: Measurement }
  | { readonly type: 'error'; readonly message: string };

/** Messages from runner to child. */
export type RunnerMessage = { readonly type: 'connections-closed' };

/** Words for the body text: a realistic page excerpt rather than one repeated character. */
const TEXT =
  'RabbitMQ publisher confirms tell the producer that the broker has taken responsibility for a message. ' +
  'A persistent message routed to a durable queue is confirmed once it is written to disk. ';

/** Target size of one message's JSON body. */
export const BODY_BYTES = 1_024;

/** The excerpt for one run, cut so that its bodies are {@link BODY_BYTES} long (ids differ per run). */
let excerpt = { run: '', text: '' };

function excerptFor(run: string): string {
  if (excerpt.run !== run) {
    const probe = JSON.stringify(bodyOf(messageId(run, 0), 0, '')).length;
    excerpt = { run, text: TEXT.repeat(8).slice(0, Math.max(0, BODY_BYTES - probe)) };
  }
  return excerpt.text;
}

function bodyOf(id: string, n: number, text: string): Record<string, unknown> {
  return {
    task: 'llm_service.tasks.summarize_content',
    id,
    kwargs: {
      share_id: `share-${String(n).padStart(6, '0')}`,
      content: { title: 'Publisher confirms', text },
      options: { backend: 'api', priority: n % 10 },
    },
  };
}

/**
 * Message `n` of run `run`: a summarize-style task whose JSON is exactly {@link BODY_BYTES} bytes
 * for n < 1,000,000. The object is new per message, so every client pays for building and
 * serialising its body.
 */
export function benchMessage(run: string, n: number): BenchMessage {
  const id = messageId(run, n);
  return { id, body: bodyOf(id, n, excerptFor(run)) };
}

/** The message id of message `n` of run `run`. */
export function messageId(run: string, n: number): string {
  return `${run}-${String(n).padStart(6, '0')}`;
}

/** Bytes of message `n`'s JSON body. */
export function bodyBytes(run: string, n: number): number {
  return Buffer.byteLength(JSON.stringify(benchMessage(run, n).body));
}

/** The median of a non-empty list (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
