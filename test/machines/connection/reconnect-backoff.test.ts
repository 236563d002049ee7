/** Reconnect delays follow the backoff policy, jittered by the draws of the seeded PRNG in context. */
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  connectionMachine,
  DEFAULT_CONNECTION_SETTINGS,
  DEFAULT_RECONNECT_BACKOFF,
  JITTER_STRATEGIES,
} from '../../../machines/index.js';
import { createHarness, errorEvent } from '../../../src/testing/index.js';
import {
  connected,
  connectionHarness,
  draws,
  drive,
  gaps,
  input,
  open,
  refused,
  reset,
  routes,
  startsOf,
} from './fixtures.js';

describe('reconnect backoff', () => {
  it.each(JITTER_STRATEGIES)('waits the %s-jittered delay before each attempt', async (jitter) => {
    const reconnect = { ...DEFAULT_RECONNECT_BACKOFF, jitter };
    const harness = connectionHarness({ reconnect, maxReconnectAttempts: 8 });
    const draw = draws(input.seed);
    const expected: number[] = [];
    await harness.apply(open);

    for (let attempt = 1; attempt < 8; attempt += 1) {
      await harness.apply(errorEvent('connect', refused));
      const delay = backoffDelay(reconnect, attempt, draw(), expected.at(-1) ?? reconnect.initialDelayMs);
      expected.push(delay);
      expect(harness.actor.getSnapshot().context.nextDelayMs).toBe(delay);

      await harness.advance(delay - 1);
      expect(harness.actor.getSnapshot().value).toBe('reconnecting');
      await harness.advance(1);
      expect(harness.actor.getSnapshot().value).toBe('connecting');
    }

    expect(gaps(startsOf(harness, 'connect'))).toEqual(expected);
    expect(harness.invocations.map((invocation) => invocation.input)).toEqual(
      Array.from({ length: expected.length + 1 }, (_, index) => ({ attempt: index + 1 })),
    );
    harness.stop();
  });

  it('draws its jitter from the seed in input, so clients with other seeds spread out', async () => {
    const firstDelay = async (seed: number) => {
      const harness = createHarness(connectionMachine, { input: { ...input, seed } });
      await drive(harness, routes.reconnecting);
      harness.stop();
      return harness.actor.getSnapshot().context.nextDelayMs;
    };
    const { reconnect } = DEFAULT_CONNECTION_SETTINGS;
    const delays = [await firstDelay(1), await firstDelay(2)];
    expect(delays).toEqual(
      [1, 2].map((seed) => backoffDelay(reconnect, 1, draws(seed)(), reconnect.initialDelayMs)),
    );
    expect(delays[0]).not.toBe(delays[1]);
  });

  it('starts again from the first attempt after a successful connect, drawing on', async () => {
    const harness = connectionHarness();
    const { reconnect } = harness.actor.getSnapshot().context.settings;
    const draw = draws(input.seed);
    await harness.apply(open);
    await harness.apply(errorEvent('connect', refused));
    const first = backoffDelay(reconnect, 1, draw(), reconnect.initialDelayMs);
    await harness.advance(first);
    await harness.apply(connected);
    expect(harness.actor.getSnapshot().context).toMatchObject({
      attempts: 0,
      nextDelayMs: reconnect.initialDelayMs,
    });

    await harness.apply({ type: 'connection.lost', failure: reset });
    expect(harness.actor.getSnapshot().context).toMatchObject({
      attempts: 1,
      nextDelayMs: backoffDelay(reconnect, 1, draw(), reconnect.initialDelayMs),
    });
    harness.stop();
  });
});
