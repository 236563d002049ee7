/**
 * What the live state page shows, read from a running producer: its status, the supervisor's actors
 * and their states, and the retrying messages as their actors see them. Plain JSON, sent as it is over
 * server-sent events.
 */
import type { StateValue } from 'xstate';
import type { MessageContext } from '../../../machines/message.machine.js';
import { isMessageActorId } from '../../../machines/supervisor.machine.js';
import type { Producer } from '../../producer/producer.js';
import type { ProducerStatus } from '../../producer/status.js';

/** How many retrying messages the page lists; the count covers all of them. */
export const LISTED_RETRYING = 50;

/** One actor of the supervisor's system and its state. */
export interface ActorView {
  readonly id: string;
  /** The state value, nested states joined with `.` (`connected.ready`). */
  readonly state: string;
}

/** A retrying message as its actor sees it. */
export interface RetryingMessageView {
  readonly messageId: string;
  readonly state: string;
  readonly attempts: number;
  readonly lastFailureCode: string;
  /** The delay planned before the next retry (the one it waits out in `retryWait`). */
  readonly nextDelayMs: number;
  readonly parked: boolean;
}

/** The page's data at one moment. */
export interface LiveState {
  readonly status: ProducerStatus;
  /** The supervisor, then its children other than message actors (connection, breaker). */
  readonly actors: readonly ActorView[];
  /** Connected, not blocked, breaker closed: retrying messages may publish. */
  readonly gateOpen: boolean;
  /** At most {@link LISTED_RETRYING}, in the supervisor's child order. */
  readonly retrying: readonly RetryingMessageView[];
  /** Live message actors in all (the backlog is in `status.messages.retrying`). */
  readonly retryingActors: number;
}

interface ChildSnapshot {
  readonly value: StateValue;
  readonly context: unknown;
  hasTag(tag: string): boolean;
}

/** `connected.ready` for `{ connected: 'ready' }`; parallel regions joined with `, `. */
export function stateName(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([key, inner]) => (inner === undefined ? key : `${key}.${stateName(inner)}`))
    .join(', ');
}

/**
 * Up to `limit` retrying messages from the supervisor's live message actors; one pass over them,
 * which the supervisor's `maxLiveMessages` bounds.
 */
export function retryingMessages(producer: Producer, limit: number): RetryingMessageView[] {
  const views: RetryingMessageView[] = [];
  for (const [id, child] of Object.entries(producer.supervisor.getSnapshot().children)) {
    if (views.length >= limit) break;
    if (!isMessageActorId(id) || child === undefined) continue;
    const snapshot = child.getSnapshot() as ChildSnapshot;
    const context = snapshot.context as MessageContext;
    views.push({
      messageId: context.messageId,
      state: stateName(snapshot.value),
      attempts: context.attempts,
      lastFailureCode: context.lastFailure.code,
      nextDelayMs: context.nextDelayMs,
      parked: snapshot.hasTag('parked'),
    });
  }
  return views;
}

/** The page's data now. */
export function liveState(producer: Producer): LiveState {
  const snapshot = producer.supervisor.getSnapshot();
  const actors: ActorView[] = [{ id: 'supervisor', state: stateName(snapshot.value) }];
  for (const [id, child] of Object.entries(snapshot.children)) {
    if (isMessageActorId(id) || child === undefined) continue;
    const value = (child.getSnapshot() as Partial<ChildSnapshot>).value;
    actors.push({ id, state: value === undefined ? '(no state)' : stateName(value) });
  }
  return {
    status: producer.status(),
    actors,
    gateOpen: snapshot.context.gateOpen,
    retrying: retryingMessages(producer, LISTED_RETRYING),
    retryingActors: snapshot.context.liveMessages,
  };
}
