/**
 * `producer.events$`: the notable things that happen to a producer, as an rxjs stream for embedding
 * services (alerting, audit logs, a UI). Connection and breaker changes come from `state$`; message
 * events come from the actor system's inspection hook, which only message actors (messages off the
 * healthy path) feed. Nothing is registered while nobody subscribes, and the healthy path never
 * reaches either source.
 */
import type { Observable } from 'rxjs';
import type { AnyActorRef, InspectionEvent, Observer, StateValue, Subscription } from 'xstate';
import type { ConnectionPhase } from '../../machines/connection.machine.js';
import type { MessageContext } from '../../machines/message.machine.js';
import { type BreakerPhase, isMessageActorId } from '../../machines/supervisor.machine.js';
import { rxjs } from '../optional-deps.js';
import type { SupervisorSummary } from './status.js';

/** A notable event of a producer. Message events carry the message id. */
export type ProducerEvent =
  | {
      readonly type: 'connection.changed';
      readonly phase: ConnectionPhase;
      readonly previous: ConnectionPhase;
    }
  | { readonly type: 'breaker.changed'; readonly state: BreakerPhase; readonly previous: BreakerPhase }
  /** A retrying message is being published again; `attempts` counts the failed ones so far. */
  | { readonly type: 'message.retried'; readonly messageId: string; readonly attempts: number }
  /** Its dead-letter hand-off failed: it is kept and handed off again later, never dropped. */
  | ({ readonly type: 'message.parked' } & MessageFacts)
  | ({ readonly type: 'message.dead-lettered' } & MessageFacts)
  /** A message that had left the healthy path was confirmed after all. */
  | { readonly type: 'message.confirmed'; readonly messageId: string; readonly attempts: number };

/** What the events of a message that failed say about it. */
export interface MessageFacts {
  readonly messageId: string;
  readonly attempts: number;
  readonly failureCode: string;
  readonly failureMessage: string;
}

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
  const facts = { messageId, attempts, failureCode: lastFailure.code, failureMessage: lastFailure.message };
  switch (state) {
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

/**
 * The events of `source`, emitted synchronously as the actors change (a slow subscriber slows the
 * producer: hand work off if it is heavy). Completes when the producer has closed.
 */
export function producerEvents(source: ProducerEventSource): Observable<ProducerEvent> {
  return new (rxjs().Observable)<ProducerEvent>((subscriber) => {
    // The top-level state of each live message actor, so that each entry is reported once.
    const states = new Map<string, string>();
    const inspection = source.supervisor.system.inspect((event) => {
      if (event.type !== '@xstate.snapshot') return;
      const { id } = event.actorRef as AnyActorRef;
      if (!isMessageActorId(id)) return;
      const { snapshot } = event;
      if (!('value' in snapshot) || !('context' in snapshot)) return;
      // A message actor's snapshot: its context and value are the message machine's.
      const context = snapshot.context as MessageContext;
      const state = topState(snapshot.value as StateValue);
      const before = states.get(id);
      if (snapshot.status === 'active') states.set(id, state);
      else states.delete(id);
      if (state === before) return;
      const notable = messageEvent(state, context);
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
