/**
 * The runtime's parts and how they are wired: each part gets the few others it works with, and the
 * supervisor actor gets the effects of connection-effects.ts and retries.ts. Nothing here decides
 * anything about a message; see the module each part comes from.
 *
 * @internal
 */
import type { Observable } from 'rxjs';
import { createActor } from 'xstate';
import { createAmqplibBroker } from '../amqp/amqplib-session.js';
import type { BrokerPort } from '../amqp/ports.js';
import { FerryError } from '../errors.js';
import type { ActorSystemInspector } from '../inspector/inspection.js';
import type { Journal } from '../journal/journal.js';
import { journalStatus } from '../journal/open-retry.js';
import { rxjs } from '../optional-deps.js';
import { messageTrace } from '../tracing/producer-tracing.js';
import { emitFerryWarning } from '../warnings.js';
import { Acceptance } from './acceptance.js';
import type { Accepted } from './accepted.js';
import { BreakerFeed } from './breaker-feed.js';
import { ConnectionEffects } from './connection-effects.js';
import { Ledger } from './ledger.js';
import { provideSupervisor, type SupervisorActor, supervisorView } from './machine-effects.js';
import { type ResolvedOptions, supervisorInput } from './options.js';
import { Outbox } from './outbox.js';
import { Publisher } from './publisher.js';
import type { RecoverySink } from './recovery.js';
import { Retries } from './retries.js';
import { type ProducerStatus, type SupervisorSummary, sameSummary } from './status.js';
import { projectStatus, summarize } from './status-projection.js';
import { takeBackCaught } from './take-back.js';
import { TopologyRepair } from './topology-repair.js';
import { UnroutableCatcher } from './unroutable-catcher.js';

/** At most one re-declaration of the topology per this many ms while connected. */
const TOPOLOGY_REPAIR_INTERVAL_MS = 1_000;

/** What the runtime is built from. */
export interface RuntimeDependencies {
  readonly broker: BrokerPort | undefined;
  readonly journal: Journal;
  readonly now: () => number;
  readonly inspect: ActorSystemInspector | undefined;
}

/**
 * Every part of one producer's runtime.
 *
 * @internal
 */
export class Runtime {
  /** The producer's lifecycle, as `status().state` shows it; the gate stays shut once `closed`. */
  state: ProducerStatus['state'] = 'idle';
  readonly journal: Journal;
  readonly outbox: Outbox<Accepted>;
  readonly ledger: Ledger;
  readonly retries: Retries;
  readonly breakerFeed: BreakerFeed;
  readonly publisher: Publisher;
  readonly connection: ConnectionEffects;
  readonly acceptance: Acceptance;
  /** `null` with `topology.declare: false`: the user owns the topology. */
  readonly repair: TopologyRepair | null;
  /** `null` without the `topology.unroutable` option. */
  readonly catcher: UnroutableCatcher | null;
  readonly actor: SupervisorActor;
  private readonly closedListeners = new Set<() => void>();

  constructor(settings: ResolvedOptions, dependencies: RuntimeDependencies) {
    const { journal, now } = dependencies;
    this.journal = journal;
    const send = (event: Parameters<SupervisorActor['send']>[0]): void => this.actor.send(event);
    this.outbox = new Outbox(settings.maxBufferedMessages, settings.maxBufferedBytes);
    this.ledger = new Ledger({
      journal,
      now,
      trace: messageTrace(() => this.publisher?.current?.endpoint ?? settings.connect.urls[0]),
    });
    this.retries = new Retries({ send, publisher: () => this.publisher, journal, ledger: this.ledger });
    this.breakerFeed = new BreakerFeed({
      send,
      view: () => supervisorView(this.actor),
      gate: (open, probeAllowed) => this.publisher.setGate(open, probeAllowed),
      now,
    });
    const { topology } = settings;
    this.repair =
      topology === null
        ? null
        : new TopologyRepair({
            declare: async () => {
              await this.publisher.current?.declare(topology);
            },
            now,
            intervalMs: TOPOLOGY_REPAIR_INTERVAL_MS,
            onError: (error) =>
              emitFerryWarning('FerryTopologyWarning', 'could not declare the topology again', error),
          });
    this.catcher = this.newCatcher(settings, now);
    const { catcher } = this;
    this.publisher = new Publisher(
      {
        outbox: this.outbox,
        owners: {
          first: {
            confirmed: (accepted) => this.ledger.finish(accepted, 'confirmed'),
            failed: (accepted, failure) => this.retries.takeOver(accepted, failure),
          },
          actor: this.retries.owners,
        },
        breaker: this.breakerFeed,
        reports: {
          answered: (accepted, outcome, writtenAt) => this.ledger.answered(accepted, outcome, writtenAt),
          outcomeUnknown: (accepted, cause) => this.ledger.redelivered(accepted, cause),
          connectionEvent: (event) => {
            if (event.type === 'connection.lost') this.breakerFeed.connectionLost(event.failure);
            this.connection.signal(event);
          },
          topologyMissing: () => this.repair?.request(),
        },
      },
      {
        maxInFlight: settings.maxInFlight,
        confirmTimeoutMs: settings.confirmTimeoutMs,
        deadLetterExchange: settings.deadLetterExchange,
        now,
        // A parked message's hand-off is retried as often: once the broker's limit is raised, it goes.
        sizeRecheckMs: settings.retry.parkedRetryDelayMs,
        unroutableCaught: catcher === null ? null : (exchange) => catcher.catches(exchange),
      },
    );
    this.connection = new ConnectionEffects(
      {
        broker: dependencies.broker ?? createAmqplibBroker(),
        publisher: this.publisher,
        connecting: () => this.ledger.connecting(),
        connected: (session) => void catcher?.attach(session),
      },
      settings,
    );
    this.acceptance = new Acceptance(
      { journal, outbox: this.outbox, publisher: this.publisher, ledger: this.ledger },
      settings,
    );
    const { retries } = this;
    // The hot path's confirm deadline (confirm-deadline.ts) owns every write's deadline, an actor's
    // included: it reports a late confirm as `message.failed`.
    const machine = provideSupervisor(
      { connection: this.connection, messages: retries, backlog: retries, journal: retries },
      { confirmDeadline: 'ports' },
    );
    this.actor = createActor(machine, {
      input: supervisorInput(settings),
      systemId: 'supervisor',
      ...(dependencies.inspect === undefined ? {} : { inspect: dependencies.inspect }),
    });
    this.actor.subscribe({ next: () => this.gateChanged(), error: () => undefined });
    this.actor.start();
  }

  /** Calls `listener` once the producer is closed; returns the function that removes it. */
  whenClosed(listener: () => void): () => void {
    this.closedListeners.add(listener);
    return () => this.closedListeners.delete(listener);
  }

  /** The producer closed: the gate shuts for good, and whoever waited for it hears. */
  markClosed(): void {
    this.state = 'closed';
    this.gateChanged();
    for (const listener of [...this.closedListeners]) listener();
    this.closedListeners.clear();
  }

  /** The status now (see status.ts). */
  status(): ProducerStatus {
    const view = supervisorView(this.actor);
    const parked = this.retries.parked;
    return projectStatus({
      state: this.state,
      supervisor: view.context,
      connection: view.connection,
      breaker: view.breaker,
      channels: this.publisher.openChannels,
      counts: this.ledger.counts,
      held: {
        buffered: this.outbox.length,
        bufferedBytes: this.outbox.byteLength,
        inFlight: this.publisher.inFlight,
        parked: parked.count,
        parkedReason: parked.reason,
        journalPending: this.journal.pendingCount(),
      },
      journal: journalStatus(this.journal),
    });
  }

  /** The supervisor's summary each time it changes; completes once the producer is closed. */
  summaries(): Observable<SupervisorSummary> {
    return new (rxjs().Observable)<SupervisorSummary>((subscriber) => {
      let last: SupervisorSummary | null = null;
      const emit = (): void => {
        const summary = summarize(this.state, this.actor.getSnapshot().context);
        if (last === null || !sameSummary(last, summary)) {
          last = summary;
          subscriber.next(summary);
        }
        if (summary.state === 'closed') subscriber.complete();
      };
      emit();
      const subscription = this.actor.subscribe({ next: emit, error: (error) => subscriber.error(error) });
      const closed = this.whenClosed(emit);
      return () => {
        subscription.unsubscribe();
        closed();
      };
    });
  }

  /** The supervisor changed, or the producer closed: the gate follows. */
  gateChanged(): void {
    this.breakerFeed.update(this.state === 'closed');
  }

  /** Messages accepted and not settled that this producer holds: buffered, in flight or retrying. */
  unsettledCount(): number {
    let count = this.retries.size + this.publisher.inFlight;
    for (const accepted of this.outbox.items()) if (!accepted.isSettled) count += 1;
    return count;
  }

  /**
   * What it still holds once {@link stop} took the in-flight messages back: the buffered ones and the
   * retrying ones.
   */
  *held(): Generator<Accepted> {
    yield* this.outbox.items();
    yield* this.retries.values();
  }

  /** Nothing being accepted, buffered or in flight (retrying messages stay journaled at close). */
  sendsNothing(): boolean {
    return this.acceptance.idle && this.outbox.length === 0 && this.publisher.inFlight === 0;
  }

  /** Nothing accepted is unsettled: none being accepted, buffered, in flight or retrying. */
  holdsNothing(): boolean {
    return this.retries.size === 0 && this.sendsNothing();
  }

  /**
   * Where recovered and claimed messages go. Messages accepted before start() are journaled already
   * and held here: only the others are taken. A recovered message's last write, if any, has an unknown
   * outcome: each counts as redelivered.
   */
  recoverySink(): RecoverySink {
    const held = new Set<string>();
    for (const accepted of this.outbox.items()) held.add(accepted.messageId);
    return {
      isHeld: (messageId) => held.has(messageId) || this.retries.holds(messageId),
      republish: (accepted) => {
        this.ledger.recovered(accepted);
        this.outbox.push(accepted);
        this.publisher.pump();
      },
      resume: (accepted, ticket) => {
        this.ledger.recovered(accepted);
        this.retries.resume(accepted, ticket);
      },
    };
  }

  /**
   * The supervisor is done (or given up on): stops it, the hot path and the helpers' timers; receipts
   * of what is still held reject `CLOSED` (the messages stay journaled).
   */
  stop(closed: FerryError, why: string): void {
    this.actor.stop();
    this.publisher.detach(closed);
    this.publisher.stop();
    this.catcher?.stop();
    this.repair?.stop();
    const abandoned = new FerryError('CLOSED', why);
    for (const accepted of this.outbox.items()) accepted.abandon(abandoned);
    for (const accepted of this.retries.values()) accepted.abandon(abandoned);
  }

  private newCatcher(settings: ResolvedOptions, now: () => number): UnroutableCatcher | null {
    const { unroutable } = settings;
    if (unroutable === null) return null;
    return new UnroutableCatcher(unroutable, {
      session: () => this.publisher.current,
      takeBack: async (delivery) => {
        const { journal, publisher, retries, ledger } = this;
        const taken = await takeBackCaught(
          delivery,
          { journal, publisher, retries, ledger },
          { appId: settings.appId, timestamp: settings.timestamp, unroutableQueue: unroutable.queue },
        );
        if (taken) this.repair?.request();
      },
      repairTopology: () => this.repair?.request(),
      warn: (what, error) => emitFerryWarning('FerryTopologyWarning', what, error),
      now,
    });
  }
}
