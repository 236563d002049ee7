/**
 * The phase status pages and metrics read: a connection that gave up (budget spent or a permanent
 * failure) reads `failed` even while it makes its slow retry, so health does not flap.
 */
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { connectionMachine, connectionPhaseOf, maxBackoffDelay } from '../../../machines/index.js';
import { accessRefused, input, refused } from './fixtures.js';

function refusingConnection(failure: typeof refused | typeof accessRefused) {
  const clock = new SimulatedClock();
  const actor = createActor(
    connectionMachine.provide({
      actors: {
        connect: fromPromise<{ endpoint: string }, { attempt: number }>(() => new Promise(() => undefined)),
      },
    }),
    { clock, input },
  ).start();
  actor.send({ type: 'connection.open' });
  // The connect attempt fails as an error event would report it.
  actor.send({ type: 'xstate.error.actor.connect', error: failure } as never);
  return { actor, clock };
}

describe('connectionPhaseOf', () => {
  it('reads failed during the slow retry after a permanent failure', () => {
    const { actor, clock } = refusingConnection(accessRefused);
    expect(connectionPhaseOf(actor.getSnapshot())).toBe('failed');
    clock.increment(maxBackoffDelay(actor.getSnapshot().context.settings.reconnect));
    expect(actor.getSnapshot().value).toBe('connecting');
    expect(connectionPhaseOf(actor.getSnapshot())).toBe('failed');
  });

  it('reads connecting during a retry after a transient failure within the budget', () => {
    const { actor, clock } = refusingConnection(refused);
    expect(connectionPhaseOf(actor.getSnapshot())).toBe('reconnecting');
    clock.increment(maxBackoffDelay(actor.getSnapshot().context.settings.reconnect));
    expect(connectionPhaseOf(actor.getSnapshot())).toBe('connecting');
  });

  it('names the blocked sub-state and reads every other connected state as connected', () => {
    const context = { attempts: 0, settings: input.settings as never, lastFailure: null };
    expect(connectionPhaseOf({ value: { connected: 'blocked' }, context })).toBe('blocked');
    expect(connectionPhaseOf({ value: { connected: 'checking' }, context })).toBe('connected');
  });
});
