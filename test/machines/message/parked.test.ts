import { describe, expect, it } from 'vitest';
import { rejectedForever, startMessage } from '../support/message-harness.js';
import { until } from '../support/settle.js';

const parkedRetryDelayMs = 60_000;
const deadLetterDown = { code: 'NOT_FOUND', message: 'no dead-letter exchange', permanent: true };

describe('message: parked after a failed dead-letter hand-off', () => {
  it('parks, retries the hand-off after parkedRetryDelayMs (not before), and is dead-lettered at last', async () => {
    const { actor, clock, deadLetter, journalParked } = startMessage({
      failure: rejectedForever,
      settings: { parkedRetryDelayMs },
    });
    const failedHandOffs = 3;
    for (let handOff = 1; handOff <= failedHandOffs; handOff++) {
      expect(deadLetter.calls).toHaveLength(handOff);
      deadLetter.latest().reject(deadLetterDown);
      const parked = await until(actor, (snapshot) => snapshot.matches('parked'));
      expect(parked.hasTag('parked')).toBe(true);
      expect(parked.context.deadLetterFailures).toBe(handOff);
      expect(journalParked).toHaveBeenCalledTimes(handOff);

      clock.increment(parkedRetryDelayMs - 1);
      expect(actor.getSnapshot().value).toBe('parked');
      clock.increment(1);
      expect(actor.getSnapshot().value).toEqual({ deadLettering: 'sending' });
    }

    deadLetter.latest().resolve();
    const done = await until(actor, (snapshot) => snapshot.status === 'done');
    expect(done.value).toBe('deadLettered');
    expect(done.output?.outcome).toBe('dead-lettered');
    expect(done.output?.lastFailure).toEqual(rejectedForever);
    expect(journalParked).toHaveBeenCalledTimes(failedHandOffs);
  });

  it('a parked message whose gate closed waits for it before handing off again', async () => {
    const { actor, clock, deadLetter } = startMessage({
      failure: rejectedForever,
      settings: { parkedRetryDelayMs },
    });
    deadLetter.latest().reject(deadLetterDown);
    await until(actor, (snapshot) => snapshot.matches('parked'));
    actor.send({ type: 'gate.changed', open: false });
    clock.increment(parkedRetryDelayMs);
    expect(actor.getSnapshot().value).toEqual({ deadLettering: 'waiting' });
    expect(deadLetter.calls).toHaveLength(1);
    actor.send({ type: 'gate.changed', open: true });
    expect(deadLetter.calls).toHaveLength(2);
  });
});
