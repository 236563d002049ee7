/**
 * Waiting helpers that synchronise on actor snapshots or on a predicate with a deadline, never on time.
 */
import type { AnyActorRef, SnapshotFrom } from 'xstate';
import { waitFor } from 'xstate';

/** How long any wait may take before the test fails instead of hanging. */
export const WAIT_DEADLINE_MS = 2_000;

/** Waits until the actor emits a snapshot matching `predicate` (or already has one). */
export function until<TActor extends AnyActorRef>(
  actor: TActor,
  predicate: (snapshot: SnapshotFrom<TActor>) => boolean,
): Promise<SnapshotFrom<TActor>> {
  return waitFor(actor, predicate, { timeout: WAIT_DEADLINE_MS });
}

/** Lets one event-loop turn pass, so that settled promise actors deliver their done/error events. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Polls `check` once per event-loop turn until it holds; fails after {@link WAIT_DEADLINE_MS}. */
export async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_DEADLINE_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await nextTurn();
  }
}
