/**
 * The producer: ferry's public face. Its methods delegate to the part of the runtime (runtime.ts) that
 * owns each concern: acceptance.ts accepts, publisher.ts sends, retries.ts retries, ledger.ts records
 * outcomes, status.ts projects the status; this module owns only the lifecycle (start, close).
 */
import type { Observable } from 'rxjs';
import { type InspectionEvent, type Observer, waitFor } from 'xstate';
import type { BrokerPort } from '../amqp/ports.js';
import { FerryError } from '../errors.js';
import { createJournal } from '../journal/create-journal.js';
import type { Journal } from '../journal/journal.js';
import { rxjs } from '../optional-deps.js';
import type { Accepted } from './accepted.js';
import { type SupervisorActor, supervisorView } from './machine-effects.js';
import type { ProducerObserver } from './observer.js';
import { type ProducerOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { type ProducerEvent, producerEvents } from './producer-events.js';
import type { PublishRequest } from './publish-request.js';
import type { PublishReceipt } from './receipt.js';
import { recoverPending, startClaiming } from './recovery.js';
import { Runtime } from './runtime.js';
import {
  type ProducerStatus,
  projectStatus,
  type SupervisorSummary,
  sameSummary,
  summarize,
} from './status.js';

/** Replaceable parts, for tests and for embedding in an existing XState system. */
export interface ProducerDependencies {
  /** The AMQP client; the amqplib adapter by default. */
  readonly broker?: BrokerPort;
  /** Where accepted messages are journaled; overrides the `journal` option. */
  readonly journal?: Journal;
  /** Wall clock in ms; `Date.now` by default. */
  readonly now?: () => number;
  /** Observes the whole actor system (for example the Stately inspector's `inspect`). */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

/** Options of {@link Producer.flush}. */
export interface FlushOptions {
  /** Stop waiting after this many ms (the messages go on); no limit when absent. */
  readonly timeoutMs?: number;
}

/** Options of {@link Producer.close}. */
export interface CloseOptions {
  /**
   * How long to wait for messages being accepted (journal commit under way), buffered or in flight to
   * be confirmed; the rest stays journaled.
   */
  readonly timeoutMs?: number;
}

/**
 * Publishes messages to RabbitMQ so that none that was accepted is lost. Create it with
 * {@link createProducer}.
 */
export class Producer {
  private readonly settings: ResolvedOptions;
  private readonly runtime: Runtime;
  private opened: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private stopClaiming: () => void = () => undefined;
  private stateStream: Observable<SupervisorSummary> | undefined;
  private eventStream: Observable<ProducerEvent> | undefined;

  /** @internal Use {@link createProducer}. */
  constructor(options: ProducerOptions, dependencies: ProducerDependencies) {
    this.settings = resolveOptions(options);
    this.runtime = new Runtime(this.settings, {
      broker: dependencies.broker,
      journal: dependencies.journal ?? createJournal(this.settings.journal),
      now: dependencies.now ?? Date.now,
      inspect: dependencies.inspect,
    });
  }

  /**
   * Replays the journal, then connects. Resolves once connected with the topology declared; rejects
   * with the connection's error when it reaches `failed` (a permanent error such as bad credentials,
   * or the attempt budget spent). Either way the producer keeps accepting and keeps trying to connect.
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
   * limit allows it. To reject such bodies here with `INVALID_MESSAGE`, set `maxMessageBytes` to the
   * broker's limit.
   *
   * @throws FerryError `INVALID_MESSAGE` (nothing accepted), `BUFFER_FULL` after waiting
   *   `bufferTimeoutMs` for room, `CLOSED`, or `BREAKER_OPEN` with `failFastWhenOpen`.
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

  /**
   * Accepts a batch: all or nothing, one journal commit, receipts in the order given. An invalid
   * message rejects the whole batch before anything is accepted.
   */
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
    const { runtime } = this;
    const view = supervisorView(runtime.actor);
    const parked = runtime.retries.parked;
    return projectStatus({
      state: runtime.state,
      supervisor: view.context,
      connection: view.connection,
      breaker: view.breaker,
      counts: runtime.ledger.counts,
      held: {
        buffered: runtime.outbox.length,
        bufferedBytes: runtime.outbox.byteLength,
        inFlight: runtime.publisher.inFlight,
        parked: parked.count,
        parkedReason: parked.reason,
        journalPending: runtime.journal.pendingCount(),
      },
    });
  }

  /**
   * Registers an observer of per-message events (metrics use it); returns the function that removes it.
   * Without observers the hot path pays one length check per event.
   */
  observe(observer: ProducerObserver): () => void {
    return this.runtime.ledger.observe(observer);
  }

  /** Running, connected, the breaker not open and nothing parked; see {@link ProducerStatus.healthy}. */
  isHealthy(): boolean {
    return this.status().healthy;
  }

  /** The supervisor's state, emitted whenever it changes (not per message); completes once closed. */
  get state$(): Observable<SupervisorSummary> {
    this.stateStream ??= new (rxjs().Observable)<SupervisorSummary>((subscriber) => {
      let last: SupervisorSummary | null = null;
      const emit = (): void => {
        const summary = summarize(this.runtime.state, this.runtime.actor.getSnapshot().context);
        if (last === null || !sameSummary(last, summary)) {
          last = summary;
          subscriber.next(summary);
        }
        if (summary.state === 'closed') subscriber.complete();
      };
      emit();
      const subscription = this.runtime.actor.subscribe({
        next: emit,
        error: (error) => subscriber.error(error),
      });
      const closed = this.runtime.whenClosed(emit);
      return () => {
        subscription.unsubscribe();
        closed();
      };
    });
    return this.stateStream;
  }

  /**
   * Notable events (connection and breaker changes; messages retried, parked, dead-lettered or
   * confirmed after a failure, with their ids). Costs nothing while nobody subscribes.
   */
  get events$(): Observable<ProducerEvent> {
    this.eventStream ??= producerEvents(this);
    return this.eventStream;
  }

  /** The supervisor actor, for inspection and for tests. */
  get supervisor(): SupervisorActor {
    return this.runtime.actor;
  }

  /**
   * Stops accepting, waits up to `timeoutMs` for messages being accepted, buffered or in flight to be
   * confirmed, then closes the connection. Whatever is unconfirmed stays in the journal; its receipts
   * reject `CLOSED`.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutDown(options);
    return this.closing;
  }

  private async shutDown(options: CloseOptions): Promise<void> {
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
    runtime.actor.send({ type: 'supervisor.close' });
    await waitFor(runtime.actor, (snapshot) => snapshot.status === 'done', {
      timeout: (this.settings.supervisor.connection?.closeTimeoutMs ?? 5_000) + 1_000,
    }).catch(() => undefined);
    runtime.actor.stop();
    runtime.publisher.detach(closed);
    runtime.publisher.stop();
    runtime.catcher?.stop();
    runtime.repair?.stop();
    const abandoned = new FerryError(
      'CLOSED',
      'the producer closed before the message settled; it stays journaled',
    );
    for (const accepted of runtime.outbox.items()) accepted.abandon(abandoned);
    for (const accepted of runtime.retries.values()) accepted.abandon(abandoned);
    this.stopClaiming();
    await runtime.journal.close();
    runtime.ledger.idle.release();
    runtime.ledger.closed();
    runtime.markClosed();
  }

  private async open(): Promise<void> {
    const { runtime } = this;
    const pending = await runtime.journal.open();
    if (this.closing !== null) throw new FerryError('CLOSED', 'the producer closed before it connected');
    // Messages accepted before start() are journaled already and held here: replay only the others.
    const held = new Set<string>();
    for (const accepted of runtime.outbox.items()) held.add(accepted.messageId);
    // A recovered message's last write, if any, has an unknown outcome: each counts as redelivered.
    const sink = {
      isHeld: (messageId: string) => held.has(messageId) || runtime.retries.holds(messageId),
      republish: (accepted: Accepted) => {
        runtime.ledger.recovered(accepted);
        runtime.outbox.push(accepted);
        runtime.publisher.pump();
      },
      resume: (accepted: Accepted, ticket: Parameters<Runtime['retries']['resume']>[1]) => {
        runtime.ledger.recovered(accepted);
        runtime.retries.resume(accepted, ticket);
      },
    };
    recoverPending(pending, runtime.ledger.now(), sink);
    held.clear();
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
