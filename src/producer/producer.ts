/**
 * The producer: the public face of ferry's runtime. It accepts messages into the journal, drives the
 * hot path, and runs the supervisor actor with every effect the machines name.
 */
import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { type Actor, createActor, waitFor } from 'xstate';
import type { BreakerContext } from '../../machines/breaker.machine.js';
import type { ConnectionContext } from '../../machines/connection.machine.js';
import { toFailure } from '../../machines/failure.js';
import {
  DEFAULT_MESSAGE_SETTINGS,
  type MessageContext,
  type MessageEffectInput,
  type MessageOutput,
} from '../../machines/message.machine.js';
import type { RetryTicket } from '../../machines/supervisor.machine.js';
import { createAmqplibBroker } from '../amqp/amqplib-session.js';
import type { BrokerPort, Delivery } from '../amqp/ports.js';
import { FerryError } from '../errors.js';
import type { ActorSystemInspector } from '../inspector/inspection.js';
import { createJournal } from '../journal/create-journal.js';
import type { Journal } from '../journal/journal.js';
import { failedEvent, parkedEvent, retryScheduledEvent } from '../journal/message-events.js';
import { journalStatus, withOpenRetry } from '../journal/open-retry.js';
import { rxjs } from '../optional-deps.js';
import { emitFerryWarning } from '../warnings.js';
import { Accepted } from './accepted.js';
import { deadLetterHeaders } from './dead-letter-headers.js';
import { Deque } from './deque.js';
import { IdleWaiters } from './idle-waiters.js';
import { type MachineEffects, provideSupervisor } from './machine-effects.js';
import type { ProducerObserver } from './observer.js';
import { type ResolvedOptions, resolveOptions } from './options.js';
import { Outbox } from './outbox.js';
import type { ProducerEvent } from './producer-event.js';
import { producerEvents } from './producer-events.js';
import type { ProducerOptions } from './producer-options.js';
import {
  addOptionalProperties,
  type MessageProperties,
  type PublishRequest,
  toOutboundMessage,
} from './publish-request.js';
import { Publisher, type PublisherHooks } from './publisher.js';
import type { PublishReceipt } from './receipt.js';
import { type RecoverySink, recoverPending, startClaiming } from './recovery.js';
import { type ProducerStatus, type SupervisorSummary, sameSummary, summarizeFailure } from './status.js';
import { TopologyRepair } from './topology-repair.js';
import { CAUGHT_HEADER, caughtCount, UnroutableCatcher } from './unroutable-catcher.js';

/** Replaceable parts, for tests and for embedding in an existing XState system. */
export interface ProducerDependencies {
  /** The AMQP client; the amqplib adapter by default. */
  readonly broker?: BrokerPort;
  /** Where accepted messages are journaled; overrides the `journal` option. */
  readonly journal?: Journal;
  /** Wall clock in ms; `Date.now` by default. */
  readonly now?: () => number;
  /** Observes the whole actor system (for example the Stately inspector's `inspect`, `ferry/inspector`). */
  readonly inspect?: ActorSystemInspector;
}

/** At most one re-declaration of the topology per this many ms while connected. */
const TOPOLOGY_REPAIR_INTERVAL_MS = 1_000;

/** Options of {@link Producer.flush}. */
export interface FlushOptions {
  /** Stop waiting after this many ms (the messages go on); no limit when absent. */
  readonly timeoutMs?: number;
}

/** Options of {@link Producer.close}. */
export interface CloseOptions {
  /** How long to wait for buffered and in-flight messages to be confirmed; the rest stays journaled. */
  readonly timeoutMs?: number;
}

type SupervisorActor = Actor<ReturnType<typeof provideSupervisor>>;

/**
 * Publishes messages to RabbitMQ so that none that was accepted is lost. Create it with
 * {@link createProducer}.
 */
export class Producer {
  private readonly settings: ResolvedOptions;
  private readonly journal: Journal;
  private readonly broker: BrokerPort;
  private readonly now: () => number;
  private readonly outbox: Outbox<Accepted>;
  private readonly publisher: Publisher;
  /** `null` with `topology: false`: the user owns the topology. */
  private readonly topologyRepair: TopologyRepair | null;
  private readonly unroutable: UnroutableCatcher | null;
  private readonly actor: SupervisorActor;
  /** Messages off the healthy path, by id: their actors publish them through this map. */
  private readonly retrying = new Map<string, Accepted>();
  private readonly backlog = new Deque<RetryTicket>();
  private connectionSink: ((event: never) => void) | null = null;
  private lifecycle: ProducerStatus['state'] = 'idle';
  private pendingSuccesses = 0;
  private successFlushScheduled = false;
  private breakerCountsSuccesses = false;
  /** Messages of `publish` calls between validation and their hand-off to the outbox or the channel. */
  private accepting = 0;
  private readonly idleWaiters = new IdleWaiters();
  private opened: Promise<void> | null = null;
  private stopClaiming: () => void = () => undefined;
  private closing: Promise<void> | null = null;
  private readonly counts = { accepted: 0, confirmed: 0, deadLettered: 0, redelivered: 0, unroutable: 0 };
  private readonly observers: ProducerObserver[] = [];
  private stateStream: Observable<SupervisorSummary> | undefined;
  private eventStream: Observable<ProducerEvent> | undefined;

  /** @internal Use {@link createProducer}. */
  constructor(options: ProducerOptions, dependencies: ProducerDependencies) {
    this.settings = resolveOptions(options);
    this.journal = withOpenRetry(dependencies.journal ?? createJournal(this.settings.journal));
    this.broker = dependencies.broker ?? createAmqplibBroker();
    this.now = dependencies.now ?? Date.now;
    this.outbox = new Outbox(this.settings.maxBufferedMessages, this.settings.maxBufferedBytes);
    this.topologyRepair = this.newTopologyRepair();
    this.unroutable = this.newUnroutableCatcher();
    const { unroutable } = this;
    this.publisher = new Publisher(this.outbox, this.publisherHooks(), {
      maxInFlight: this.settings.maxInFlight,
      confirmTimeoutMs: this.settings.confirmTimeoutMs,
      deadLetterExchange: this.settings.deadLetterExchange,
      now: this.now,
      // A parked message's hand-off is retried as often: once the broker's limit is raised, it goes.
      sizeRecheckMs:
        this.settings.supervisor.message?.parkedRetryDelayMs ?? DEFAULT_MESSAGE_SETTINGS.parkedRetryDelayMs,
      unroutableCaught: unroutable === null ? null : (exchange) => unroutable.catches(exchange),
    });
    this.actor = createActor(provideSupervisor(this.machineEffects()), {
      input: this.settings.supervisor,
      systemId: 'supervisor',
      ...(dependencies.inspect === undefined ? {} : { inspect: dependencies.inspect }),
    });
    this.actor.subscribe({ next: () => this.onSupervisorChange(), error: () => undefined });
    this.actor.start();
  }

  /**
   * Replays the journal, then connects. Resolves once connected with the topology declared; rejects
   * with the connection's error when it reaches `failed` (a permanent error such as bad credentials,
   * or the attempt budget spent). Either way the producer keeps accepting and keeps trying to connect.
   * A journal that cannot open yet is tried again with backoff and `start()` waits for it
   * (`status().journal` says why); it rejects for a journal that is corrupt or too new.
   */
  start(): Promise<void> {
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
    return this.accept(batch).then(firstOf);
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
    return this.accept(batch);
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
   * until the cause is fixed.
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
    if (this.lifecycle === 'closed' && !this.holdsNothing()) return Promise.resolve(false);
    return this.idleWaiters.wait(() => this.holdsNothing(), timeoutMs);
  }

  /** The status, synchronously. */
  status(): ProducerStatus {
    const snapshot = this.actor.getSnapshot();
    const { context } = snapshot;
    const connection = this.connectionContext();
    const breaker = this.breakerContext();
    let parked = 0;
    for (const [id, child] of Object.entries(snapshot.children)) {
      if (
        id.startsWith('msg:') &&
        (child as { getSnapshot(): { hasTag(tag: string): boolean } }).getSnapshot().hasTag('parked')
      ) {
        parked += 1;
      }
    }
    const connected = context.connectionPhase === 'connected' || context.connectionPhase === 'blocked';
    return {
      state: this.lifecycle,
      healthy: this.lifecycle === 'running' && connected && context.breakerPhase !== 'open',
      connection: {
        phase: context.connectionPhase,
        connected,
        endpoint: connection?.endpoint ?? null,
        attempts: connection?.attempts ?? 0,
        reconnects: Math.max(0, (connection?.connects ?? 0) - 1),
        blockedReason: connection?.blockedReason ?? null,
        healthCheckFailures: connection?.healthCheckFailures ?? 0,
        lastError: connection?.lastFailure == null ? null : summarizeFailure(connection.lastFailure),
      },
      circuitBreaker: {
        state: context.breakerPhase,
        isOpen: context.breakerPhase === 'open',
        consecutiveFailures: breaker?.consecutiveFailures ?? 0,
        trips: breaker?.trips ?? 0,
      },
      messages: {
        accepted: this.counts.accepted,
        confirmed: this.counts.confirmed,
        deadLettered: this.counts.deadLettered,
        buffered: this.outbox.length,
        bufferedBytes: this.outbox.byteLength,
        inFlight: this.publisher.inFlight,
        retrying: context.liveMessages + context.backlog,
        parked,
        redelivered: this.counts.redelivered,
        unroutable: this.counts.unroutable,
        journalPending: this.journal.pendingCount(),
      },
      journal: journalStatus(this.journal),
    };
  }

  /**
   * Registers an observer of per-message events (metrics use it); returns the function that removes it.
   * Without observers the hot path pays one length check per event.
   */
  observe(observer: ProducerObserver): () => void {
    this.observers.push(observer);
    return () => {
      const index = this.observers.indexOf(observer);
      if (index >= 0) this.observers.splice(index, 1);
    };
  }

  /** The original `isHealthy()`: connected and the breaker not open. */
  isHealthy(): boolean {
    return this.status().healthy;
  }

  /** The supervisor's state, emitted whenever it changes (not per message). */
  get state$(): Observable<SupervisorSummary> {
    this.stateStream ??= new (rxjs().Observable)<SupervisorSummary>((subscriber) => {
      let last: SupervisorSummary | null = null;
      const emit = (): void => {
        const summary = this.summary();
        if (last === null || !sameSummary(last, summary)) {
          last = summary;
          subscriber.next(summary);
        }
      };
      emit();
      const subscription = this.actor.subscribe({
        next: emit,
        complete: () => {
          emit();
          subscriber.complete();
        },
        error: (error) => subscriber.error(error),
      });
      return () => subscription.unsubscribe();
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

  /**
   * The supervisor actor, for inspection and for tests.
   *
   * @internal
   */
  get supervisor(): SupervisorActor {
    return this.actor;
  }

  /**
   * Stops accepting, waits up to `timeoutMs` for buffered and in-flight messages to be confirmed, then
   * closes the connection. Whatever is unconfirmed stays in the journal; its receipts reject `CLOSED`.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutDown(options);
    return this.closing;
  }

  private async shutDown(options: CloseOptions): Promise<void> {
    this.lifecycle = 'closing';
    const closed = new FerryError('CLOSED', 'the producer is closing');
    this.outbox.rejectWaiters(closed);
    // Before start() nothing can be sent: waiting would only use up the timeout.
    if (this.opened !== null) await this.drained(options.timeoutMs ?? this.settings.closeTimeoutMs);
    this.actor.send({ type: 'supervisor.close' });
    await waitFor(this.actor, (snapshot) => snapshot.status === 'done', {
      timeout: (this.settings.supervisor.connection?.closeTimeoutMs ?? 5_000) + 1_000,
    }).catch(() => undefined);
    this.actor.stop();
    this.publisher.detach(closed);
    this.publisher.stop();
    this.unroutable?.stop();
    this.topologyRepair?.stop();
    const abandoned = new FerryError(
      'CLOSED',
      'the producer closed before the message settled; it stays journaled',
    );
    for (const accepted of this.outbox.items()) accepted.abandon(abandoned);
    for (const accepted of this.retrying.values()) accepted.abandon(abandoned);
    this.stopClaiming();
    await this.journal.close();
    this.lifecycle = 'closed';
    this.idleWaiters.release();
    this.onSupervisorChange();
  }

  private async open(): Promise<void> {
    const pending = await this.journal.open();
    if (this.closing !== null) throw new FerryError('CLOSED', 'the producer closed before it connected');
    // Messages accepted before start() are journaled already and held here: replay only the others.
    const held = new Set<string>();
    for (const accepted of this.outbox.items()) held.add(accepted.messageId);
    // A recovered message's last write, if any, has an unknown outcome: each counts as redelivered.
    const sink: RecoverySink = {
      isHeld: (messageId) => held.has(messageId) || this.retrying.has(messageId),
      republish: (accepted) => {
        this.counts.redelivered += 1;
        this.outbox.push(accepted);
        this.publisher.pump();
      },
      resume: (accepted, ticket) => {
        this.counts.redelivered += 1;
        this.retrying.set(accepted.messageId, accepted);
        this.actor.send({ type: 'message.retry', ticket });
      },
    };
    recoverPending(pending, this.now(), sink);
    held.clear();
    this.stopClaiming = startClaiming(this.journal, this.now, sink);
    this.lifecycle = 'running';
    this.actor.send({ type: 'supervisor.start' });
    const snapshot = await waitFor(
      this.actor,
      (s) =>
        s.context.connectionPhase === 'connected' ||
        s.context.connectionPhase === 'failed' ||
        s.status === 'done',
      { timeout: Number.POSITIVE_INFINITY },
    );
    if (snapshot.context.connectionPhase !== 'connected') {
      const failure = this.connectionContext()?.lastFailure;
      throw failure == null
        ? new FerryError('CLOSED', 'the producer closed before it connected')
        : new FerryError(failure.code as FerryError['code'], failure.message);
    }
  }

  /**
   * Validates and encodes a batch, synchronously: once it returns, the caller's request objects are
   * no longer referenced, so a caller issuing many batches without awaiting them holds only the
   * encoded messages.
   */
  private prepare(requests: readonly PublishRequest[]): Accepted[] {
    if (this.lifecycle === 'closing' || this.lifecycle === 'closed') {
      throw new FerryError('CLOSED', 'the producer is closed');
    }
    if (this.settings.failFastWhenOpen && this.actor.getSnapshot().context.breakerPhase === 'open') {
      throw new FerryError('BREAKER_OPEN', 'the circuit breaker is open');
    }
    const now = this.now();
    const batch = new Array<Accepted>(requests.length);
    for (let index = 0; index < requests.length; index += 1) {
      try {
        batch[index] = new Accepted(toOutboundMessage(requests[index] as PublishRequest, now, this.settings));
      } catch (error) {
        if (requests.length === 1 || !(error instanceof FerryError)) throw error;
        throw new FerryError('INVALID_MESSAGE', `message ${index}: ${error.message}`, {
          details: { index, ...error.details },
        });
      }
    }
    return batch;
  }

  /** Journals a prepared batch, then sends it or buffers it. */
  private async accept(batch: Accepted[]): Promise<Accepted[]> {
    let bytes = 0;
    for (let i = 0; i < batch.length; i += 1) bytes += (batch[i] as Accepted).bytes;
    this.accepting += batch.length;
    try {
      if (!this.publisher.canSendNow() && !this.outbox.hasRoom(bytes, batch.length)) {
        await this.outbox.waitForRoom(bytes, this.settings.bufferTimeoutMs, batch.length);
      }
      for (const accepted of batch) this.journal.append({ type: 'accepted', message: accepted.message });
      await this.journal.commit();
    } catch (error) {
      this.accepting -= batch.length;
      this.idleWaiters.check();
      throw error;
    }
    this.accepting -= batch.length;
    this.counts.accepted += batch.length;
    const { observers } = this;
    for (const accepted of batch) {
      for (let i = 0; i < observers.length; i += 1)
        observers[i]?.accepted(accepted.message.routingKey, accepted.bytes);
      if (this.publisher.canSendNow()) this.publisher.sendNow(accepted);
      else this.outbox.push(accepted);
    }
    this.publisher.pump();
    // Acceptance that never leaves the microtask queue (the memory journal commits at once) would let
    // a loop of awaited publishes run without the socket ever being written, or acks and heartbeats
    // read: while messages wait in the outbox, the event loop turns once before the promise resolves.
    if (this.outbox.length > 0) await nextTurn();
    return batch;
  }

  private publisherHooks(): PublisherHooks {
    return {
      confirmed: (accepted) => this.finish(accepted, 'confirmed'),
      answered: (accepted, outcome) => {
        const { observers } = this;
        if (observers.length === 0) return;
        const latencyMs = this.now() - accepted.writtenAt;
        for (let i = 0; i < observers.length; i += 1) observers[i]?.answered(outcome, latencyMs);
      },
      failed: (accepted, failure) => this.retry(accepted, failure),
      outcomeUnknown: () => {
        this.counts.redelivered += 1;
      },
      retrySettled: (accepted, failure) =>
        this.actor.send(
          failure === null
            ? { type: 'message.ack', messageId: accepted.messageId }
            : { type: 'message.failed', messageId: accepted.messageId, failure: toFailure(failure) },
        ),
      breakerOutcome: (failure) => this.feedBreaker(failure),
      probeSent: () => this.actor.send({ type: 'breaker.probe' }),
      topologyMissing: () => this.topologyRepair?.request(),
      connectionEvent: (event) => {
        if (event.type === 'connection.lost') {
          // A half-open breaker's probe that dies with its connection has no outcome; count it as a
          // failure so the breaker cools down and probes again instead of waiting for it forever.
          if (this.breakerContext()?.probeTaken === true && this.summary().circuitBreaker === 'halfOpen') {
            this.feedBreaker(event.failure);
          }
        }
        const sink = this.connectionSink as ((event: unknown) => void) | null;
        sink?.(event.type === 'connection.lost' ? { ...event, failure: toFailure(event.failure) } : event);
      },
    };
  }

  /** A message's attempt failed: journaled, and handed to a message actor to retry or dead-letter. */
  private retry(accepted: Accepted, failure: FerryError): void {
    accepted.attempts += 1;
    this.journal.append({
      type: 'failed',
      messageId: accepted.messageId,
      attempts: accepted.attempts,
      failure: toFailure(failure),
      at: this.now(),
    });
    this.retrying.set(accepted.messageId, accepted);
    this.actor.send({
      type: 'message.retry',
      ticket: { messageId: accepted.messageId, attempts: accepted.attempts, failure: toFailure(failure) },
    });
  }

  private newUnroutableCatcher(): UnroutableCatcher | null {
    const { unroutable } = this.settings;
    if (unroutable === null) return null;
    return new UnroutableCatcher(unroutable, {
      session: () => this.publisher.current,
      takeBack: (delivery) => this.takeBackUnroutable(delivery),
      repairTopology: () => this.topologyRepair?.request(),
      warn: (what, error) => emitFerryWarning('FerryTopologyWarning', what, error),
      now: this.now,
    });
  }

  /**
   * A message the alternate exchange caught: the broker confirmed it, but it reached no worker queue.
   * It is accepted again under its id and fails as a return would have: retried (the topology is
   * declared again first), then dead-lettered once its catches used up `maxAttempts`. The delivery is
   * acked once the journal holds it.
   */
  private async takeBackUnroutable(delivery: Delivery): Promise<void> {
    const { properties } = delivery;
    const messageId = properties.messageId ?? randomUUID();
    // Its confirm can still be on the way: the journal must see the original finish before the copy.
    await this.publisher.inFlightWith(messageId)?.settled.catch(() => undefined);
    const caughtBefore = caughtCount(properties.headers);
    const now = this.now();
    // Taken as ferry would have sent it: whatever another publisher left out gets ferry's defaults.
    const taken: MessageProperties = {
      ...properties,
      messageId,
      headers: { ...properties.headers, [CAUGHT_HEADER]: caughtBefore + 1 },
      contentType: properties.contentType ?? 'application/octet-stream',
      persistent: true,
    };
    addOptionalProperties(taken, this.settings, now);
    const accepted = new Accepted({
      messageId,
      exchange: delivery.exchange,
      routingKey: delivery.routingKey,
      content: delivery.content,
      acceptedAt: now,
      properties: taken,
    });
    this.journal.append({ type: 'accepted', message: accepted.message });
    await this.journal.commit();
    this.counts.accepted += 1;
    this.counts.unroutable += 1;
    this.topologyRepair?.request();
    // Each catch used up an attempt, those of earlier copies included: the count travels in a header.
    accepted.attempts = caughtBefore;
    this.retry(
      accepted,
      new FerryError(
        'RETURNED',
        `the message was unroutable (caught by the alternate exchange into ${this.settings.unroutable?.queue})`,
        { details: { messageId } },
      ),
    );
  }

  private newTopologyRepair(): TopologyRepair | null {
    const { topology } = this.settings;
    if (topology === null) return null;
    return new TopologyRepair({
      declare: async () => {
        await this.publisher.current?.declare(topology);
      },
      now: this.now,
      intervalMs: TOPOLOGY_REPAIR_INTERVAL_MS,
      onError: (error) =>
        emitFerryWarning('FerryTopologyWarning', 'could not declare the topology again', error),
    });
  }

  private machineEffects(): MachineEffects {
    return {
      connect: (signal) => {
        for (const observer of this.observers) observer.connecting();
        return this.connect(signal);
      },
      watch: (sink) => {
        this.connectionSink = sink as (event: never) => void;
        return () => {
          if (this.connectionSink === sink) this.connectionSink = null;
        };
      },
      healthCheck: () => {
        const session = this.publisher.current;
        if (session === null) return Promise.reject(new FerryError('CONNECTION_LOST', 'no session to check'));
        return session.checkExchange(this.settings.healthCheckExchange);
      },
      disconnect: async () => {
        const session = this.publisher.current;
        this.publisher.detachGracefully();
        await session?.close();
      },
      dropConnection: () =>
        this.publisher.detach(
          new FerryError('CONNECTION_LOST', 'the connection was given up and will be reopened'),
        ),
      publishRetry: (input) => {
        const written = this.publisher.publishRetry(this.retryRecord(input));
        // Counted once it did not fail at once for want of a channel: that uses up no attempt.
        for (const observer of this.observers) observer.retried();
        return written;
      },
      deadLetter: (input) => {
        const accepted = this.retryRecord(input);
        return this.publisher.publishDeadLetter(
          accepted,
          deadLetterHeaders(accepted.message, input, this.now()),
        );
      },
      journalFailure: (context) => this.journalMessageFailure(context),
      journalRetryScheduled: (context) => this.journal.append(retryScheduledEvent(context, this.now())),
      journalParked: (context) => this.journal.append(parkedEvent(context, this.now())),
      holdInBacklog: (ticket) => this.backlog.push(ticket),
      releaseFromBacklog: () => {
        const ticket = this.backlog.shift();
        if (ticket !== undefined) this.actor.send({ type: 'message.retry', ticket, fromBacklog: true });
      },
      reportOutcome: (output) => this.reportOutcome(output),
    };
  }

  private async connect(signal: AbortSignal): Promise<{ endpoint: string }> {
    this.publisher.detach(new FerryError('CONNECTION_LOST', 'replaced by a new connection'));
    const session = await this.broker.connect(this.settings.connect, signal);
    const abandon = (): void => session.destroy();
    signal.addEventListener('abort', abandon, { once: true });
    try {
      session.setListener(this.publisher);
      if (this.settings.topology !== null) await session.declare(this.settings.topology);
      if (signal.aborted) throw new FerryError('CONNECT_TIMEOUT', 'connecting took longer than the timeout');
    } catch (error) {
      session.destroy();
      throw FerryError.from(error);
    } finally {
      signal.removeEventListener('abort', abandon);
    }
    this.publisher.attach(session);
    this.unroutable?.attach(session);
    return { endpoint: session.endpoint };
  }

  private retryRecord(input: MessageEffectInput): Accepted {
    const accepted = this.retrying.get(input.messageId);
    if (accepted === undefined) {
      throw new FerryError('UNKNOWN', `no record of retrying message ${input.messageId}`);
    }
    return accepted;
  }

  private journalMessageFailure(context: MessageContext): void {
    const accepted = this.retrying.get(context.messageId);
    if (accepted !== undefined) accepted.attempts = context.attempts;
    this.journal.append(failedEvent(context, this.now()));
  }

  private reportOutcome(output: MessageOutput): void {
    const accepted = this.retrying.get(output.messageId);
    this.retrying.delete(output.messageId);
    if (accepted !== undefined) this.finish(accepted, output.outcome);
  }

  private finish(accepted: Accepted, outcome: 'confirmed' | 'dead-lettered'): void {
    const at = this.now();
    this.journal.append(
      outcome === 'confirmed'
        ? { type: 'confirmed', messageId: accepted.messageId, at }
        : { type: 'dead-lettered', messageId: accepted.messageId, at },
    );
    const { observers } = this;
    for (let i = 0; i < observers.length; i += 1) {
      observers[i]?.settled(accepted.message.routingKey, outcome, at - accepted.message.acceptedAt);
    }
    if (outcome === 'confirmed') this.counts.confirmed += 1;
    else this.counts.deadLettered += 1;
    accepted.settle(outcome);
    this.idleWaiters.check();
  }

  /** Nothing accepted is unsettled: none being accepted, buffered, in flight or with a message actor. */
  private holdsNothing(): boolean {
    return this.accepting === 0 && this.retrying.size === 0 && this.sendsNothing();
  }

  /** Nothing buffered or in flight (retrying messages stay journaled at close). */
  private sendsNothing(): boolean {
    return this.outbox.length === 0 && this.publisher.inFlight === 0;
  }

  /**
   * Feeds the breaker. Failures go at once; successes only when the breaker needs them (after a
   * failure, while probing, or in failure-rate mode), coalesced into one event per macrotask.
   */
  private feedBreaker(failure: FerryError | null): void {
    if (failure === null) {
      if (!this.breakerCountsSuccesses) return;
      this.pendingSuccesses += 1;
      if (!this.successFlushScheduled) {
        this.successFlushScheduled = true;
        setImmediate(() => this.flushSuccesses());
      }
      return;
    }
    this.flushSuccesses();
    this.actor.send({ type: 'breaker.failure', at: this.now(), failure: toFailure(failure) });
  }

  private flushSuccesses(): void {
    this.successFlushScheduled = false;
    if (this.pendingSuccesses === 0) return;
    const count = this.pendingSuccesses;
    this.pendingSuccesses = 0;
    if (this.actor.getSnapshot().status === 'active') {
      this.actor.send({ type: 'breaker.success', at: this.now(), count });
    }
  }

  private onSupervisorChange(): void {
    const snapshot = this.actor.getSnapshot();
    const breaker = this.breakerContext();
    const { context } = snapshot;
    this.breakerCountsSuccesses =
      breaker !== null &&
      (breaker.consecutiveFailures > 0 ||
        breaker.settings.failureRate !== null ||
        context.breakerPhase === 'halfOpen');
    // With retrying messages live the supervisor offers the probe to one of them; the outbox
    // provides it only when there is none.
    const probeAllowed =
      context.breakerPhase === 'halfOpen' &&
      context.connectionPhase === 'connected' &&
      context.liveMessages === 0 &&
      breaker?.probeTaken === false;
    this.publisher.setGate(context.gateOpen && this.lifecycle !== 'closed', probeAllowed);
  }

  private summary(): SupervisorSummary {
    const { context } = this.actor.getSnapshot();
    return {
      state: this.lifecycle,
      connection: context.connectionPhase,
      circuitBreaker: context.breakerPhase,
      sending: context.gateOpen,
      retryingActors: context.liveMessages,
      backlog: context.backlog,
    };
  }

  private connectionContext(): ConnectionContext | null {
    const child = this.actor.getSnapshot().children.connection;
    return child === undefined ? null : (child.getSnapshot().context as ConnectionContext);
  }

  private breakerContext(): BreakerContext | null {
    const child = this.actor.getSnapshot().children.breaker;
    return child === undefined ? null : (child.getSnapshot().context as BreakerContext);
  }

  private drained(timeoutMs: number): Promise<boolean> {
    return this.idleWaiters.wait(() => this.sendsNothing(), timeoutMs);
  }
}

function firstOf(batch: readonly Accepted[]): Accepted {
  return batch[0] as Accepted;
}

/** Resolves on the next turn of the event loop, after pending I/O callbacks. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Creates a producer. Call `start()` to connect; `publish()` accepts messages before that too. */
export function createProducer(
  options: ProducerOptions = {},
  dependencies: ProducerDependencies = {},
): Producer {
  return new Producer(options, dependencies);
}
