import { describe, expect, it } from 'vitest';
import { publishSucceeds, rejectedForever, startMessage } from '../support/message-harness.js';
import { until } from '../support/settle.js';

describe('message: permanent failure', () => {
  it('goes straight to dead-lettering when it arrives with a permanent failure', async () => {
    const { actor, publish, deadLetter } = startMessage({
      failure: rejectedForever,
      settings: { maxAttempts: 5 },
    });
    expect(actor.getSnapshot().value).toEqual({ deadLettering: 'sending' });
    expect(publish.calls).toHaveLength(0);

    deadLetter.latest().resolve();
    const done = await until(actor, (snapshot) => snapshot.status === 'done');
    expect(done.output?.outcome).toBe('dead-lettered');
    expect(done.output?.attempts).toBe(1);
    expect(done.output?.lastFailure).toEqual(rejectedForever);
  });

  it('skips its remaining attempts when a retry fails permanently', async () => {
    const harness = startMessage({ settings: { maxAttempts: 5 } });
    harness.clock.increment(harness.actor.getSnapshot().context.nextDelayMs);
    await publishSucceeds(harness);
    harness.actor.send({ type: 'confirm.failed', failure: rejectedForever });

    expect(harness.actor.getSnapshot().value).toEqual({ deadLettering: 'sending' });
    expect(harness.publish.calls).toHaveLength(1);
    expect(harness.deadLetter.latest().input.lastFailure).toEqual(rejectedForever);
  });

  it('treats a publish that rejects permanently the same way', async () => {
    const harness = startMessage({ settings: { maxAttempts: 5 } });
    harness.clock.increment(harness.actor.getSnapshot().context.nextDelayMs);
    harness.publish.latest().reject(rejectedForever);
    const snapshot = await until(harness.actor, (s) => s.matches('deadLettering'));
    expect(snapshot.context.lastFailure).toEqual(rejectedForever);
  });
});
