import { describe, expect, it } from 'vitest';
import type { Failure } from '../../../machines/failure.js';
import {
  connectionLost,
  failNextAttempt,
  journaledFailures,
  nacked,
  publishSucceeds,
  startMessage,
} from '../support/message-harness.js';
import { until } from '../support/settle.js';

describe('message: runtime journal hooks', () => {
  it('calls journalFailure once per failure, the one it arrived with included, with that failure in context', async () => {
    const returned: Failure = { code: 'RETURNED', message: 'unroutable', permanent: false };
    const harness = startMessage({ failure: nacked, settings: { maxAttempts: 4 } });
    expect(journaledFailures(harness)).toEqual([nacked]);

    await failNextAttempt(harness, returned);
    expect(journaledFailures(harness)).toEqual([nacked, returned]);

    // CONNECTION_LOST spends no attempt but is still a failure worth journaling.
    harness.clock.increment(harness.actor.getSnapshot().context.nextDelayMs);
    await publishSucceeds(harness);
    harness.actor.send({ type: 'gate.changed', open: false });
    harness.actor.send({ type: 'confirm.failed', failure: connectionLost });
    expect(journaledFailures(harness)).toEqual([nacked, returned, connectionLost]);

    harness.actor.send({ type: 'gate.changed', open: true });
    harness.publish.latest().reject(nacked);
    await until(harness.actor, (snapshot) => snapshot.matches('retryWait'));
    expect(journaledFailures(harness)).toEqual([nacked, returned, connectionLost, nacked]);
    expect(harness.journalParked).not.toHaveBeenCalled();
  });

  it('calls journalParked once per park and never for a hand-off that worked', async () => {
    const harness = startMessage({ settings: { maxAttempts: 1, parkedRetryDelayMs: 1_000 } });
    expect(harness.actor.getSnapshot().value).toEqual({ deadLettering: 'sending' });
    harness.deadLetter.latest().reject(new Error('dead-letter exchange is down'));
    await until(harness.actor, (snapshot) => snapshot.matches('parked'));
    expect(harness.journalParked).toHaveBeenCalledTimes(1);
    expect(harness.journalParked.mock.calls[0]?.[0].context.deadLetterFailures).toBe(1);

    harness.clock.increment(1_000);
    harness.deadLetter.latest().resolve();
    await until(harness.actor, (snapshot) => snapshot.status === 'done');
    expect(harness.journalParked).toHaveBeenCalledTimes(1);
    expect(harness.journalFailure).toHaveBeenCalledTimes(1);
  });
});
