/**
 * Model paths checked against expectations stated without the machines: replaying a path only shows
 * that the live actor agrees with the machine's own `transition`, so a wrong target state would pass.
 * Here every generated path is also folded by a small oracle written from the specification:
 *
 * - connection: every reconnect delay lies within the backoff bounds for its attempt (500 ms doubling
 *   to 32 s, plus 0–30 %), and `failed` is reached only after a permanent failure or the budget;
 * - breaker: it opens exactly when the consecutive failures reach the threshold, leaves `open` only by
 *   its cooldown or a reset, and lets exactly one probe through per half-open period;
 * - message: attempts never exceed the limit, and a path that ends ends `confirmed` (after an ack) or
 *   `deadLettered` (after a dead-letter confirm); a message is never dropped otherwise.
 */
import { describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import { breakerMachine, connectionMachine, messageMachine } from '../../machines/index.js';
import { ferryModels, modelPaths, replayPath } from '../../src/testing/index.js';

const top = (snapshot: AnyMachineSnapshot): string =>
  typeof snapshot.value === 'string' ? snapshot.value : (Object.keys(snapshot.value)[0] ?? '');

describe('connection paths', () => {
  const model = ferryModels.connection;
  const budget = model.input.settings?.maxReconnectAttempts ?? 0;
  const paths = modelPaths(connectionMachine, model);
  it.each(paths.map((path) => [path.description, path] as const))('%s', async (_, path) => {
    await replayPath(connectionMachine, path, { input: model.input });
    for (const [index, { state, event }] of path.steps.entries()) {
      const snapshot = state as AnyMachineSnapshot;
      const { attempts, nextDelayMs, lastFailure } = snapshot.context as {
        attempts: number;
        nextDelayMs: number;
        lastFailure: { permanent: boolean } | null;
      };
      const entered = index > 0 && top(path.steps[index - 1]!.state as AnyMachineSnapshot) !== top(snapshot);
      if (entered && top(snapshot) === 'reconnecting') {
        const base = Math.min(500 * 2 ** Math.max(0, attempts - 1), 32_000);
        expect(nextDelayMs, `${event.type}: delay after ${attempts} failures`).toBeGreaterThanOrEqual(base);
        expect(nextDelayMs).toBeLessThanOrEqual(Math.round(base * 1.3));
        expect(attempts).toBeLessThan(budget);
      }
      if (entered && top(snapshot) === 'failed') {
        expect(lastFailure?.permanent === true || attempts >= budget, `failed after ${event.type}`).toBe(
          true,
        );
      }
    }
  });
});

describe('breaker paths', () => {
  const model = ferryModels.breaker;
  const threshold = model.input.settings?.failureThreshold ?? 0;
  const paths = modelPaths(breakerMachine, model);
  it.each(paths.map((path) => [path.description, path] as const))('%s', async (_, path) => {
    await replayPath(breakerMachine, path, { input: model.input });
    let expected = 'closed';
    let failures = 0;
    let probes = 0;
    for (const { state, event } of path.steps.slice(1)) {
      const before = expected;
      if (event.type === 'breaker.reset') {
        expected = 'closed';
        failures = 0;
      } else if (before === 'closed' && event.type === 'breaker.success') {
        failures = 0;
      } else if (before === 'closed' && event.type === 'breaker.failure') {
        failures += 1;
        if (failures >= threshold) expected = 'open';
      } else if (before === 'open' && event.type.startsWith('xstate.after.')) {
        expected = 'halfOpen';
        probes = 0;
      } else if (before === 'halfOpen' && event.type === 'breaker.success') {
        expected = 'closed';
        failures = 0;
      } else if (before === 'halfOpen' && event.type === 'breaker.failure') {
        expected = 'open';
      } else if (before === 'halfOpen' && event.type === 'breaker.probe') {
        probes = Math.min(probes + 1, 1);
      }
      const snapshot = state as AnyMachineSnapshot;
      expect(top(snapshot), `after ${event.type} from ${before}`).toBe(expected);
      if (expected === 'halfOpen') {
        expect(
          (snapshot.context as { probeTaken: boolean }).probeTaken,
          'one probe per half-open period',
        ).toBe(probes === 1);
      }
    }
  });
});

describe('message paths', () => {
  const model = ferryModels.message;
  const paths = modelPaths(messageMachine, model);
  it.each(paths.map((path) => [path.description, path] as const))('%s', async (_, path) => {
    await replayPath(messageMachine, path, { input: model.input });
    for (const { state } of path.steps) {
      const { attempts, settings } = (state as AnyMachineSnapshot).context as {
        attempts: number;
        settings: { maxAttempts: number };
      };
      expect(attempts).toBeLessThanOrEqual(settings.maxAttempts);
    }
    const last = path.steps.at(-1)!;
    const snapshot = last.state as AnyMachineSnapshot;
    if (snapshot.status === 'done') {
      const outcome = top(snapshot);
      expect(['confirmed', 'deadLettered']).toContain(outcome);
      const cause = last.event.type;
      if (outcome === 'confirmed') expect(['confirm.ack', 'xstate.done.actor.publish']).toContain(cause);
      else expect(cause).toBe('xstate.done.actor.deadLetter');
    } else {
      expect(snapshot.status).toBe('active');
    }
  });
});
