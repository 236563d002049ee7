import { describe, expect, it } from 'vitest';
import { eventually, outcomes, rejection, startedRig, task } from './helpers.js';

describe('the circuit breaker', () => {
  it('opens after 10 consecutive nacks, probes after the cooldown and closes on the probe ack', async () => {
    const { producer, broker } = await startedRig({ breaker: { cooldownMs: 80 }, retry: { maxAttempts: 5 } });
    const session = broker.session;
    const failing = [];
    for (let n = 1; n <= 10; n += 1) failing.push(await producer.publish(task(n)));
    session.nack(9, true);
    expect(producer.status().circuitBreaker).toMatchObject({ isOpen: false, consecutiveFailures: 9 });
    // Taken before the nack that opens it: the cooldown's timer cannot start earlier, so a loaded
    // machine's pause between the two can only lengthen the measured wait.
    const openedAt = Date.now();
    session.nack(10);
    expect(producer.status().circuitBreaker).toMatchObject({ isOpen: true, state: 'open', trips: 1 });
    expect(producer.isHealthy()).toBe(false);

    // Accepting goes on; sending stops, retries included.
    const waiting = [];
    for (let n = 11; n <= 13; n += 1) waiting.push(await producer.publish(task(n)));
    expect(session.published).toHaveLength(10);
    expect(producer.status().messages).toMatchObject({ buffered: 3, retrying: 10 });

    await eventually(() => session.published.length === 11, 'the probe');
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(70);
    // With retrying messages live, the first of them is offered the probe (a new message would be
    // taken only when no actor could serve).
    expect(session.published[10]!.properties.messageId).toBe('m-1');
    expect(producer.status().circuitBreaker.state).toBe('halfOpen');
    // Only the probe: nothing else goes out until it is answered.
    await new Promise((resolve) => setImmediate(resolve));
    expect(session.published).toHaveLength(11);

    session.ack(11);
    await eventually(() => producer.status().circuitBreaker.state === 'closed', 'the breaker to close');
    await eventually(() => session.published.length === 23, 'the rest and the retries');
    session.ackAll();
    await expect(outcomes([...failing, ...waiting])).resolves.toEqual(Array(13).fill('confirmed'));
    expect(producer.isHealthy()).toBe(true);
  });

  it('a nacked probe opens it again', async () => {
    const { producer, broker } = await startedRig({ breaker: { failureThreshold: 2, cooldownMs: 30 } });
    const session = broker.session;
    await producer.publishMany([task(1), task(2)]);
    session.nack(2, true);
    expect(producer.status().circuitBreaker.isOpen).toBe(true);
    await producer.publish(task(3));
    // The first retrying message is the probe (tag 3 on this channel).
    await eventually(() => session.publishesOf('m-1').length === 2, 'the probe');
    session.nack(3);
    expect(producer.status().circuitBreaker).toMatchObject({ state: 'open', trips: 2 });
  });

  it('a probe lost with its connection does not leave the breaker stuck half-open', async () => {
    const { producer, broker } = await startedRig({ breaker: { failureThreshold: 2, cooldownMs: 30 } });
    const failing = await producer.publishMany([task(1), task(2)]);
    broker.session.nack(2, true);
    const probe = await producer.publish(task(3));
    await eventually(() => broker.session.publishesOf('m-1').length === 2, 'the probe');
    broker.session.dropConnection();

    // The broker answers everything from now on: the probe goes again, and then the rest.
    broker.responder = () => 'ack';
    await expect(outcomes([...failing, probe])).resolves.toEqual(Array(3).fill('confirmed'));
    expect(producer.status().circuitBreaker.state).toBe('closed');
  });

  it('with failFastWhenOpen, publish rejects BREAKER_OPEN while it is open', async () => {
    const { producer, broker } = await startedRig({
      breaker: { failFastWhenOpen: true, failureThreshold: 2, cooldownMs: 60 },
    });
    await producer.publishMany([task(1), task(2)]);
    broker.session.nack(2, true);
    const error = await rejection(producer.publish(task(3)));
    expect(error.code).toBe('BREAKER_OPEN');
    expect(producer.status().messages.accepted).toBe(2);
    // Once it is half-open, publishing is accepted again (the probe needs a message).
    await eventually(() => producer.status().circuitBreaker.state === 'halfOpen', 'the cooldown');
    await expect(producer.publish(task(4))).resolves.toMatchObject({ messageId: 'm-4' });
  });

  it('retrying messages alone get through the half-open breaker', async () => {
    const { producer, broker } = await startedRig({ breaker: { failureThreshold: 2, cooldownMs: 30 } });
    const session = broker.session;
    const receipts = await producer.publishMany([task(1), task(2)]);
    session.nack(2, true);
    expect(producer.status().circuitBreaker.isOpen).toBe(true);
    // Nothing new is published: only the two retrying messages can serve as the probe.
    broker.responder = () => 'ack';
    await expect(outcomes(receipts, 1_000)).resolves.toEqual(['confirmed', 'confirmed']);
    expect(producer.status().circuitBreaker.state).toBe('closed');
  });
});
