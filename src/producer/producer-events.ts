/**
 * `producer.events$`: the notable things that happen to a producer, as an rxjs stream for embedding
 * services (alerting, audit logs, a UI). Connection and breaker changes come from `state$`; message
 * events come from the actor system's inspection hook, which only message actors (messages off the
 * healthy path) feed. Nothing is registered while nobody subscribes, and the healthy path never
 * reaches either source.
 */
import type { Observable } from 'rxjs';
import type { AnyActorRef, InspectionEvent, Observer, StateValue, Subscription } from 'xstate';
import type { BreakerContext } from '../../machines/breaker.machine.js';
import type { ConnectionContext } from '../../machines/connection.machine.js';
import type { MessageContext } from '../../machines/message.machine.js';
import { isMessageActorId } from '../../machines/supervisor.machine.js';
import { ferryErrorCode } from '../errors.js';
import { rxjs } from '../optional-deps.js';
import type { ProducerEvent } from './producer-event.js';
import type { SupervisorSummary } from './status.js';

export type { MessageFacts, ProducerEvent } from './producer-event.js';

/** What {@link producerEvents} reads from the producer, when subscribed to. */
export interface ProducerEventSource {
  readonly supervisor: {
    readonly system: {
      inspect(observer: Observer<InspectionEvent> | ((event: InspectionEvent) => void)): Subscription;
    };
  };
  readonly state$: Observable<SupervisorSummary>;
}

/** The message actors' states that are worth an event, by the top-level state name. */
function messageEvent(state: string, context: MessageContext): ProducerEvent | null {
  const { messageId, attempts, lastFailure } = context;
  const facts = {
    messageId,
    attempts,
    failureCode: ferryErrorCode(lastFailure.code),
    failureMessage: lastFailure.message,
  };
  switch (state) {
    case 'retryWait':
      return {
        type: 'message.retry-scheduled',
        messageId,
        attempt: attempts + 1,
        delayMs: context.nextDelayMs,
        failureCode: facts.failureCode,
        failureMessage: facts.failureMessage,
      };
    case 'publishing':
      return { type: 'message.retried', messageId, attempts };
    case 'parked':
      return { type: 'message.parked', ...facts };
    case 'deadLettered':
      return { type: 'message.dead-lettered', ...facts };
    case 'confirmed':
      return { type: 'message.confirmed', messageId, attempts };
    default:
      return null;
  }
}

const topState = (value: StateValue): string =>
  typeof value === 'string' ? value : (Object.keys(value)[0] ?? '');

const failureFacts = (failure: { readonly code: string; readonly message: string } | null) =>
  failure === null
    ? { failureCode: 'UNKNOWN' as const, failureMessage: 'no failure recorded' }
    : {
        failureCode: ferryErrorCode(failure.code),
        failureMessage: failure.message,
      };

/** The connection's events, from two of its snapshots in a row. */
function connectionEvents(before: ConnectionSnapshot | null, after: ConnectionSnapshot): ProducerEvent[] {
  const events: ProducerEvent[] = [];
  const { context } = after;
  if (context.healthCheckFailures > (before?.context.healthCheckFailures ?? 0)) {
    events.push({
      type: 'connection.health-check-failed',
      failures: context.healthCheckFailures,
      ...failureFacts(context.lastFailure),
    });
  }
  const state = topState(after.value);
  if ((state === 'reconnecting' || state === 'failed') && state !== topState(before?.value ?? '')) {
    events.push({
      type: 'connection.retry-scheduled',
      attempt: context.attempts,
      delayMs: context.nextDelayMs,
      jitterMs: context.nextJitterMs,
      gaveUp: state === 'failed',
      ...failureFacts(context.lastFailure),
    });
  }
  return events;
}

/** A machine actor's snapshot, as the inspection hook reports it. */
interface MachineSnapshot<TContext> {
  readonly status: string;
  readonly value: StateValue;
  readonly context: TContext;
}
type ConnectionSnapshot = MachineSnapshot<ConnectionContext>;

/** Whether `snapshot` is a machine's; the actor's id says which machine, so the context's type. */
function isMachineSnapshot<TContext>(snapshot: unknown): snapshot is MachineSnapshot<TContext> {
  return typeof snapshot === 'object' && snapshot !== null && 'value' in snapshot && 'context' in snapshot;
}

/**
 * The events of `source`, emitted synchronously as the actors change (a slow subscriber slows the
 * producer: hand work off if it is heavy). Completes when the producer has closed.
 */
export function producerEvents(source: ProducerEventSource): Observable<ProducerEvent> {
  return new (rxjs().Observable)<ProducerEvent>((subscriber) => {
    // The top-level state of each live message actor, so that each entry is reported once.
    const states = new Map<string, string>();
    let connection: ConnectionSnapshot | null = null;
    let breaker: BreakerContext | null = null;
    const inspection = source.supervisor.system.inspect((event) => {
      if (event.type !== '@xstate.snapshot') return;
      const { id } = event.actorRef as AnyActorRef;
      const { snapshot } = event;
      if (id === 'connection' && isMachineSnapshot<ConnectionContext>(snapshot)) {
        for (const notable of connectionEvents(connection, snapshot)) subscriber.next(notable);
        connection = snapshot;
        return;
      }
      if (id === 'breaker' && isMachineSnapshot<BreakerContext>(snapshot)) {
        breaker = snapshot.context;
        return;
      }
      if (!isMessageActorId(id) || !isMachineSnapshot<MessageContext>(snapshot)) return;
      const state = topState(snapshot.value);
      const before = states.get(id);
      if (snapshot.status === 'active') states.set(id, state);
      else states.delete(id);
      if (state === before) return;
      const notable = messageEvent(state, snapshot.context);
      if (notable !== null) subscriber.next(notable);
    });
    let last: SupervisorSummary | null = null;
    const summaries = source.state$.subscribe({
      next: (summary) => {
        if (last !== null && summary.connection !== last.connection) {
          subscriber.next({
            type: 'connection.changed',
            phase: summary.connection,
            previous: last.connection,
          });
        }
        if (last !== null && summary.circuitBreaker !== last.circuitBreaker) {
          subscriber.next({
            type: 'breaker.changed',
            state: summary.circuitBreaker,
            previous: last.circuitBreaker,
            consecutiveFailures: breaker?.consecutiveFailures ?? 0,
            trips: breaker?.trips ?? 0,
            ...(breaker?.lastFailure == null ? {} : failureFacts(breaker.lastFailure)),
          });
        }
        last = summary;
      },
      complete: () => subscriber.complete(),
      error: (error) => subscriber.error(error),
    });
    return () => {
      summaries.unsubscribe();
      inspection.unsubscribe();
    };
  });
}
