import { describe, expect, it } from 'vitest';
import { type BackoffPolicy, backoffDelay, JITTER_STRATEGIES } from '../../../machines/backoff.js';
import { drawRandom, seedRandom } from '../../../machines/random.js';
import { failNextAttempt, publishSucceeds, startMessage } from '../support/message-harness.js';

describe('message: retries with backoff', () => {
  it.each(JITTER_STRATEGIES)(
    'waits the %s backoff delay drawn from its seed before each retry',
    async (jitter) => {
      const retry: BackoffPolicy = {
        initialDelayMs: 1_000,
        maxDelayMs: 10_000,
        multiplier: 2,
        jitter,
        jitterFactor: 0.3,
      };
      const maxAttempts = 6;
      const seed = 20_240_601;
      const harness = startMessage({ seed, settings: { retry, maxAttempts } });

      // The same computation the machine documents: one draw per retry, attempt = failed attempts so far.
      let random = seedRandom(seed);
      let previous = retry.initialDelayMs;
      for (let attempts = 1; attempts < maxAttempts; attempts++) {
        const draw = drawRandom(random);
        random = draw.next;
        previous = backoffDelay(retry, attempts, draw.value, previous);

        expect(harness.actor.getSnapshot().value).toBe('retryWait');
        expect(harness.actor.getSnapshot().context.attempts).toBe(attempts);
        expect(harness.actor.getSnapshot().context.nextDelayMs).toBe(previous);
        await failNextAttempt(harness);
      }
      expect(harness.actor.getSnapshot().matches('deadLettering')).toBe(true);
    },
  );

  it('republishes with the same message id and the attempt count so far', async () => {
    const harness = startMessage({ messageId: 'task-42', settings: { maxAttempts: 3 } });
    await failNextAttempt(harness);
    harness.clock.increment(harness.actor.getSnapshot().context.nextDelayMs);
    await publishSucceeds(harness);
    expect(harness.publish.calls.map((call) => call.input.messageId)).toEqual(['task-42', 'task-42']);
    expect(harness.publish.calls.map((call) => call.input.attempts)).toEqual([1, 2]);
  });

  it('confirms when a retry is acked, with the attempts it took', async () => {
    const harness = startMessage({ settings: { maxAttempts: 5 } });
    await failNextAttempt(harness);
    harness.clock.increment(harness.actor.getSnapshot().context.nextDelayMs);
    await publishSucceeds(harness);
    harness.actor.send({ type: 'confirm.ack' });

    const snapshot = harness.actor.getSnapshot();
    expect(snapshot.status).toBe('done');
    expect(snapshot.value).toBe('confirmed');
    expect(snapshot.output).toEqual({
      messageId: snapshot.context.messageId,
      outcome: 'confirmed',
      attempts: 2,
      lastFailure: snapshot.context.lastFailure,
    });
    expect(harness.deadLetter.calls).toHaveLength(0);
  });
});
