/**
 * Runs the breaker machine on a simulated clock and reads its phase and tags.
 */
import { type Actor, createActor, SimulatedClock } from 'xstate';
import { type BreakerSettings, breakerMachine } from '../../../machines/breaker.machine.js';
import type { Failure } from '../../../machines/failure.js';

/** A running breaker and the clock its cooldown runs on. */
export interface BreakerHarness {
  readonly clock: SimulatedClock;
  readonly actor: Actor<typeof breakerMachine>;
}

/** Starts a breaker with the given settings on a fresh simulated clock. */
export function startBreaker(settings: Partial<BreakerSettings>): BreakerHarness {
  const clock = new SimulatedClock();
  const actor = createActor(breakerMachine, { clock, input: { settings } }).start();
  return { clock, actor };
}

/** A transient failure as the runtime reports it. */
export const brokerFailure: Failure = { code: 'NACKED', message: 'the broker nacked', permanent: false };

/** The breaker's phases and the tags each one must carry, and only those. */
export const PHASE_TAGS = {
  closed: ['canSend'],
  open: ['open'],
  halfOpen: ['probing'],
} as const;

/** The phase of a breaker snapshot, with its tags, for one `toEqual`. */
export function phaseOf(actor: Actor<typeof breakerMachine>): { value: unknown; tags: string[] } {
  const snapshot = actor.getSnapshot();
  return { value: snapshot.value, tags: [...snapshot.tags].sort() };
}

/** What {@link phaseOf} must return in `phase`. */
export function inPhase(phase: keyof typeof PHASE_TAGS): { value: string; tags: string[] } {
  return { value: phase, tags: [...PHASE_TAGS[phase]] };
}

/** Sends `count` single failures at time `at`. */
export function failTimes(actor: Actor<typeof breakerMachine>, count: number, at = 0): void {
  for (let i = 0; i < count; i++) actor.send({ type: 'breaker.failure', at, failure: brokerFailure });
}

/** Opens a breaker that trips on consecutive failures. */
export function tripBreaker(harness: BreakerHarness): void {
  failTimes(harness.actor, harness.actor.getSnapshot().context.settings.failureThreshold);
}
