/**
 * Runs one retryable-message actor on a simulated clock, with controlled `publish` and `deadLetter`
 * effects and spies on its journal hooks.
 */
import { expect, vi } from 'vitest';
import { type Actor, createActor, SimulatedClock } from 'xstate';
import type { Failure } from '../../../machines/failure.js';
import {
  type MessageEffectInput,
  type MessageInput,
  type MessageSettings,
  messageMachine,
} from '../../../machines/message.machine.js';
import { type ControlledEffect, controlledEffect } from './controlled-effect.js';
import { until } from './settle.js';

type MessageActor = Actor<typeof messageMachine>;
type HookArgs = [{ context: { lastFailure: Failure; deadLetterFailures: number } }];

/** A running message actor, its clock, its effects and its journal hooks. */
export interface MessageHarness {
  readonly clock: SimulatedClock;
  readonly actor: MessageActor;
  readonly publish: ControlledEffect<void, MessageEffectInput>;
  readonly deadLetter: ControlledEffect<void, MessageEffectInput>;
  readonly journalFailure: ReturnType<typeof vi.fn<(...args: HookArgs) => void>>;
  readonly journalParked: ReturnType<typeof vi.fn<(...args: HookArgs) => void>>;
}

/** A transient failure that uses up an attempt. */
export const nacked: Failure = { code: 'NACKED', message: 'the broker nacked', permanent: false };
/** A failure that waits for the connection instead of using up an attempt. */
export const connectionLost: Failure = {
  code: 'CONNECTION_LOST',
  message: 'the connection went away',
  permanent: false,
};
/** A failure retrying cannot help. */
export const rejectedForever: Failure = {
  code: 'PRECONDITION_FAILED',
  message: 'the broker will never take this message',
  permanent: true,
};

/** Input fields a test may override; the rest are a transient failure on the first attempt, gate open. */
export type MessageHarnessInput = Partial<Omit<MessageInput, 'settings'>> & {
  readonly settings?: Partial<MessageSettings>;
};

/** Starts a message actor; nothing settles until the test says so. */
export function startMessage(input: MessageHarnessInput = {}): MessageHarness {
  const clock = new SimulatedClock();
  const publish = controlledEffect<void, MessageEffectInput>();
  const deadLetter = controlledEffect<void, MessageEffectInput>();
  const journalFailure = vi.fn<(...args: HookArgs) => void>();
  const journalParked = vi.fn<(...args: HookArgs) => void>();
  const machine = messageMachine.provide({
    actors: { publish: publish.logic, deadLetter: deadLetter.logic },
    actions: { journalFailure, journalParked },
  });
  const actor = createActor(machine, {
    clock,
    input: {
      messageId: 'message-1',
      failure: nacked,
      attempts: 1,
      gateOpen: true,
      seed: 7,
      ...input,
    },
  }).start();
  return { clock, actor, publish, deadLetter, journalFailure, journalParked };
}

/** The failures the `journalFailure` hook saw, in order. */
export function journaledFailures(harness: MessageHarness): Failure[] {
  return harness.journalFailure.mock.calls.map(([{ context }]) => context.lastFailure);
}

/** Resolves the pending publish and waits for the actor to await its confirm. */
export async function publishSucceeds(harness: MessageHarness): Promise<void> {
  expect(harness.actor.getSnapshot().value).toBe('publishing');
  harness.publish.latest().resolve();
  await until(harness.actor, (snapshot) => snapshot.matches('awaitingConfirm'));
}

/** Waits out the retry delay the actor planned and checks that it publishes then, not before. */
export function waitOutRetryDelay(harness: MessageHarness): void {
  const { actor, clock, publish } = harness;
  expect(actor.getSnapshot().value).toBe('retryWait');
  const calls = publish.calls.length;
  clock.increment(actor.getSnapshot().context.nextDelayMs - 1);
  expect(actor.getSnapshot().value).toBe('retryWait');
  clock.increment(1);
  expect(actor.getSnapshot().value).toBe('publishing');
  expect(publish.calls.length).toBe(calls + 1);
}

/** One more failed attempt from `retryWait`: waits, republishes, and the broker rejects the confirm. */
export async function failNextAttempt(harness: MessageHarness, failure: Failure = nacked): Promise<void> {
  waitOutRetryDelay(harness);
  await publishSucceeds(harness);
  harness.actor.send({ type: 'confirm.failed', failure });
}
