import { describe, expect, it } from 'vitest';
import { FAILURE_CODES } from '../../../machines/failure.js';
import { journaledFailures, publishSucceeds, startMessage } from '../support/message-harness.js';

describe('message: confirm timeout', () => {
  it('counts a missing confirm after confirmTimeoutMs as a CONFIRM_TIMEOUT failure', async () => {
    const confirmTimeoutMs = 3_000;
    const harness = startMessage({ settings: { maxAttempts: 5, confirmTimeoutMs } });
    harness.clock.increment(harness.actor.getSnapshot().context.nextDelayMs);
    await publishSucceeds(harness);

    harness.clock.increment(confirmTimeoutMs - 1);
    expect(harness.actor.getSnapshot().value).toEqual({ awaitingConfirm: 'timing' });
    harness.clock.increment(1);

    const { context, value } = harness.actor.getSnapshot();
    expect(value).toBe('retryWait');
    expect(context.attempts).toBe(2);
    expect(context.lastFailure.code).toBe(FAILURE_CODES.confirmTimeout);
    expect(context.lastFailure.permanent).toBe(false);
    expect(journaledFailures(harness).at(-1)?.code).toBe(FAILURE_CODES.confirmTimeout);
  });

  it('an ack before the timeout cancels it', async () => {
    const confirmTimeoutMs = 3_000;
    const harness = startMessage({ settings: { confirmTimeoutMs } });
    harness.clock.increment(harness.actor.getSnapshot().context.nextDelayMs);
    await publishSucceeds(harness);
    harness.clock.increment(confirmTimeoutMs - 1);
    harness.actor.send({ type: 'confirm.ack' });
    harness.clock.increment(confirmTimeoutMs);
    expect(harness.actor.getSnapshot().output?.outcome).toBe('confirmed');
    expect(harness.actor.getSnapshot().context.attempts).toBe(1);
  });
});
