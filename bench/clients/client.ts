/**
 * What every client adapter under `bench/clients/` provides. Each adapter is written the way that
 * client's own documentation shows publishing with confirms; the child process (`bench/child.ts`)
 * drives it and measures.
 */
import type { BenchMessage, Target } from '../workload.js';

/** Builds message `n` of the run. */
export type MakeMessage = (n: number) => BenchMessage;

/** Connection settings every adapter applies in its own terms. */
export interface ClientSettings {
  /** Initial reconnect delay, ms, for the clients that reconnect (the recovery variant tunes it). */
  readonly reconnectDelayMs: number;
  /** The recovery variant: switch on the client's reconnect support where it is opt-in. */
  readonly recovery: boolean;
  /** Scratch folder for files (ferry's sqlite journal). */
  readonly scratch: string;
}

/** One client, connected to one target. Every method resolves once every message is confirmed. */
export interface BenchClient {
  /**
   * The client's fast path: publish `count` messages as its docs show for throughput and wait for
   * every confirm. Resolves with the number of publishes the client reported as failed.
   */
  pipelined(count: number, make: MakeMessage): Promise<number>;
  /** `for … await publish()`, then whatever is still unconfirmed. Absent: the client has no such call. */
  sequential?(count: number, make: MakeMessage): Promise<number>;
  /** All `count` publishes issued at once without waiting (no flow control), then every confirm. */
  outstanding(count: number, make: MakeMessage): Promise<number>;
  /**
   * One message, resolving once the client reports it confirmed and rejecting when it reports a
   * failure. Absent: the client cannot recover from a closed connection, so it has no recovery run.
   */
  send?(message: BenchMessage): Promise<void>;
  /** Closes the connection (graceful where the client offers it). */
  close(): Promise<void>;
}

/** Connects a client to a target. */
export type ClientFactory = (target: Target, settings: ClientSettings) => Promise<BenchClient>;

/** AMQP properties every client sets: persistent JSON with the bench's message id. */
export const CONTENT_TYPE = 'application/json';

/** Runs `publish` for every message, in order, each awaited; resolves with the number that failed. */
export async function awaitEach(
  count: number,
  make: MakeMessage,
  publish: (message: BenchMessage) => Promise<unknown>,
): Promise<number> {
  let failed = 0;
  for (let n = 0; n < count; n += 1) {
    try {
      await publish(make(n));
    } catch {
      failed += 1;
    }
  }
  return failed;
}

/** Issues `publish` for every message without waiting, then waits for all; resolves with the failures. */
export async function issueAll(
  count: number,
  make: MakeMessage,
  publish: (message: BenchMessage) => Promise<unknown>,
): Promise<number> {
  const pending: Promise<unknown>[] = new Array(count);
  for (let n = 0; n < count; n += 1) pending[n] = publish(make(n));
  const outcomes = await Promise.allSettled(pending);
  return outcomes.filter((outcome) => outcome.status === 'rejected').length;
}
