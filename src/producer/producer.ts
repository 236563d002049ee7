/**
 * The producer: ferry's public face. Its methods delegate to the part of the runtime (runtime.ts) that
 * owns each concern: acceptance.ts accepts, publisher.ts sends, retries.ts retries, ledger.ts records
 * outcomes, status.ts projects the status; this module owns only the lifecycle (start, close).
 */
import type { Observable } from 'rxjs';
import { waitFor } from 'xstate';
import { FerryError } from '../errors.js';
import { createJournal } from '../journal/create-journal.js';
import { withOpenRetry } from '../journal/open-retry.js';
import { emitFerryWarning } from '../warnings.js';
import type { Accepted } from './accepted.js';
import { type SupervisorActor, supervisorView } from './machine-effects.js';
import type { ProducerObserver } from './observer.js';
import { type ResolvedOptions, resolveOptions } from './options.js';
import { type MessageOutcome, outcomeStream } from './outcome-stream.js';
import type { CloseOptions, CloseResult, FlushOptions, ProducerDependencies } from './producer-api.js';
import type { ProducerEvent } from './producer-event.js';
import { producerEvents } from './producer-events.js';
import type { ProducerOptions } from './producer-options.js';
import type { PublishRequest } from './publish-request.js';
import type { PublishReceipt } from './receipt.js';
import { recoverPending, startClaiming } from './recovery.js';
import { Runtime } from './runtime.js';
import type { ProducerStatus, SupervisorSummary } from './status.js';

export type { CloseOptions, CloseResult, FlushOptions, ProducerDependencies } from './producer-api.js';

/**
 * Publishes messages to RabbitMQ so that none that was accepted is lost. Create it with
 * {@link createProducer}.
 */
export class Producer {
  private readonly settings: ResolvedOptions;
  private readonly runtime: Runtime;
  private opened: Promise<void> | null = null;
  private closing: Promise<CloseResult> | null = null;
  private stopClaiming: () => void = () => undefined;
  private stateStream: Observable<SupervisorSummary> | undefined;
  private eventStream: Observable<ProducerEvent> | undefined;

  /** @internal Use {@link createProducer}. */
  constructor(options: ProducerOptions, dependencies: ProducerDependencies) {
    this.settings = resolveOptions(options);
    this.runtime = new Runtime(this.settings, {
      broker: dependencies.broker,
      journal: withOpenRetry(dependencies.journal ?? createJournal(this.settings.journal)),
      now: dependencies.now ?? Date.now,
      inspect: dependencies.inspect,
    });
  }

  /**
   * Replays the journal, then connects. Resolves once connected with the topology declared; rejects
   * with the connection's error when it reaches `failed` (a permanent error such as bad credentials,
   * or the attempt budget spent). Either way the producer keeps accepting and keeps trying to connect.
   * A journal that cannot open yet is tried again with backoff and `start()` waits for it
   * (`status().journal` says why); it rejects for a journal that is corrupt or too new.
   *
   * @throws FerryError `CLOSED` once `close()` was called.
   */
  start(): Promise<void> {
    if (this.closing !== null && this.opened === null) {
      return Promise.reject(new FerryError('CLOSED', 'the producer is closed'));
    }
    this.opened ??= this.open();
    return this.opened;
  }

  /**
   * Accepts a message: validates it, journals it, and resolves with its receipt. From then on ferry owns
   * it. The promise does not wait for the broker's confirm (`receipt.settled` does). When the channel
   * cannot take the message at once, it resolves after one turn of the event loop, so that a loop of
   * awaited publishes leaves the socket, confirms and heartbeats their turn.
   *
   * A body over the broker's `max_message_size` is accepted all the same, even once a 406 told ferry the
   * limit (an operator may raise it, and a rejection here would depend on what this producer happened
   * to see): it fails with `MESSAGE_TOO_LARGE` (only the first such write closes the channel; later ones
   * are refused before writing), and as its dead-letter hand-off is as large, it stays parked until the
   * limit allows it. To reject such bodies here with `INVALID_MESSAGE`, set `publish.maxMessageBytes` to the
   * broker's limit.
   *
   * @throws FerryError `INVALID_MESSAGE` (nothing accepted), `BUFFER_FULL` after waiting
   *   `buffer.timeoutMs` for room, `CLOSED`, or `BREAKER_OPEN` with `breaker.failFastWhenOpen`.
   */
  publish(request: PublishRequest): Promise<PublishReceipt> {
    let batch: Accepted[];
    try {
      batch = this.prepare([request]);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.runtime.acceptance.accept(batch).then(firstOf);
  }

  /** Accepts a batch: all or nothing (an invalid message rejects it), one commit, receipts in order. */
  publishMany(requests: readonly PublishRequest[]): Promise<PublishReceipt[]> {
    let batch: Accepted[];
    try {
      if (!Array.isArray(requests))
        throw new FerryError('INVALID_MESSAGE', 'publishMany takes an array of messages');
      batch = this.prepare(requests);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.runtime.acceptance.accept(batch);
  }

  /**
   * Waits until this producer holds nothing unsettled: every message it accepted confirmed or
   * dead-lettered, those accepted while it waits included (as a Kafka producer's `flush`), so call it
   * once you have stopped publishing, before a batch job exits for instance. One promise for any
   * number of messages, where awaiting every `receipt.settled` costs a promise per message.
   *
   * Resolves `true` once nothing is held; `false` when `timeoutMs` passed first or the producer
   * closed. Either way the messages stay owned: journaled, retried, delivered. Without `timeoutMs` it
   * waits as long as that takes, which for a parked message (its dead-letter hand-off failing) is
   * until the cause is fixed (`status().messages.parkedReason` says what it is).
   *
   * @throws FerryError `INVALID_OPTIONS` when `timeoutMs` is not a non-negative number.
   */
  flush(options: FlushOptions = {}): Promise<boolean> {
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0)) {
      return Promise.reject(
        new FerryError('INVALID_OPTIONS', 'flush timeoutMs must be a non-negative number of ms'),
      );
    }
    const { runtime } = this;
    if (runtime.state === 'closed' && !runtime.holdsNothing()) return Promise.resolve(false);
    return runtime.ledger.idle.wait(() => runtime.holdsNothing(), timeoutMs);
  }

  /** The status, synchronously. */
  status(): ProducerStatus {
    return this.runtime.status();
  }

  /** Registers an observer of per-message events (metrics use it); returns its removal. */
  observe(observer: ProducerObserver): () => void {
    return this.runtime.ledger.observe(observer);
  }

  /** Running, connected, the breaker not open and nothing parked; see {@link ProducerStatus.healthy}. */
  isHealthy(): boolean {
    return this.status().healthy;
  }

  /** The supervisor's state, emitted whenever it changes (not per message); completes once closed. */
  get state$(): Observable<SupervisorSummary> {
    this.stateStream ??= this.runtime.summaries();
    return this.stateStream;
  }

  /** Notable events (see {@link ProducerEvent}); costs nothing while nobody subscribes. */
  get events$(): Observable<ProducerEvent> {
    this.eventStream ??= producerEvents(this);
    return this.eventStream;
  }

  /**
   * Every accepted message's outcome, `{ messageId, outcome }`, as it settles: no promise per message.
   * Costs nothing while nobody subscribes; completes once the producer is closed.
   */
  get outcomes$(): Observable<MessageOutcome> {
    return outcomeStream(this.runtime);
  }

  /**
   * The supervisor actor, for inspection and for tests.
   *
   * @internal
   */
  get supervisor(): SupervisorActor {
    return this.runtime.actor;
  }

  /**
   * Stops accepting, waits up to `timeoutMs` for messages being accepted, buffered or in flight to be
   * confirmed, then closes the connection. Whatever is unconfirmed stays in a durable journal; its
   * receipts reject `CLOSED`. On the memory journal it is lost, and the result counts it.
   */
  close(options: CloseOptions = {}): Promise<CloseResult> {
    this.closing ??= this.shutDown(options);
    return this.closing;
  }

  private async shutDown(options: CloseOptions): Promise<CloseResult> {
    const { runtime } = this;
    runtime.state = 'closing';
    const closed = new FerryError('CLOSED', 'the producer is closing');
    runtime.outbox.rejectWaiters(closed);
    // Before start() nothing can be sent: waiting would only use up the timeout.
    if (this.opened !== null) {
      await runtime.ledger.idle.wait(
        () => runtime.sendsNothing(),
        options.timeoutMs ?? this.settings.closeTimeoutMs,
      );
    }
    // Nothing more to repair or prove: a declaration cut short by the close is no problem.
    runtime.repair?.stop();
    runtime.catcher?.stop();
    runtime.actor.send({ type: 'supervisor.close' });
    await waitFor(runtime.actor, (snapshot) => snapshot.status === 'done', {
      timeout: this.settings.connection.disconnectTimeoutMs + 1_000,
    }).catch(() => undefined);
    const { journal } = runtime;
    const dropped = journal.durable ? 0 : runtime.unsettledCount();
    runtime.stop(
      closed,
      dropped === 0
        ? 'the producer closed before the message settled; it stays journaled'
        : 'the producer closed before the message settled, and the memory journal keeps nothing: it is lost',
    );
    this.stopClaiming();
    await journal.close();
    if (dropped > 0) {
      const what = `close dropped ${dropped} unconfirmed message(s)`;
      emitFerryWarning(
        'FerryJournalWarning',
        what,
        new FerryError('CLOSED', 'the memory journal keeps nothing'),
      );
    }
    runtime.ledger.idle.release();
    runtime.ledger.closed(runtime.held());
    runtime.markClosed();
    return { dropped };
  }

  private async open(): Promise<void> {
    const { runtime } = this;
    const pending = await runtime.journal.open();
    if (this.closing !== null) throw new FerryError('CLOSED', 'the producer closed before it connected');
    const sink = runtime.recoverySink();
    recoverPending(pending, runtime.ledger.now(), sink);
    this.stopClaiming = startClaiming(runtime.journal, () => runtime.ledger.now(), sink);
    runtime.state = 'running';
    runtime.actor.send({ type: 'supervisor.start' });
    const snapshot = await waitFor(
      runtime.actor,
      (s) =>
        s.context.connectionPhase === 'connected' ||
        s.context.connectionPhase === 'failed' ||
        s.status === 'done',
      { timeout: Number.POSITIVE_INFINITY },
    );
    if (snapshot.context.connectionPhase !== 'connected') {
      const failure = supervisorView(runtime.actor).connection?.lastFailure;
      throw failure == null
        ? new FerryError('CLOSED', 'the producer closed before it connected')
        : new FerryError(failure.code as FerryError['code'], failure.message);
    }
  }

  /** Refuses when closing or fast-failing on an open breaker; else validates and encodes. */
  private prepare(requests: readonly PublishRequest[]): Accepted[] {
    const { runtime } = this;
    if (runtime.state === 'closing' || runtime.state === 'closed') {
      throw new FerryError('CLOSED', 'the producer is closed');
    }
    if (this.settings.failFastWhenOpen && runtime.actor.getSnapshot().context.breakerPhase === 'open') {
      throw new FerryError('BREAKER_OPEN', 'the circuit breaker is open');
    }
    return runtime.acceptance.prepare(requests, runtime.ledger.now());
  }
}

function firstOf(batch: readonly Accepted[]): Accepted {
  return batch[0] as Accepted;
}

/** Creates a producer. Call `start()` to connect; `publish()` accepts messages before that too. */
export function createProducer(
  options: ProducerOptions = {},
  dependencies: ProducerDependencies = {},
): Producer {
  return new Producer(options, dependencies);
}
