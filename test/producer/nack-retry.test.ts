import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_EXCHANGE } from '../../src/amqp/topology.js';
import { DEAD_LETTER_HEADERS } from '../../src/producer/dead-letter-headers.js';
import { eventually, startedRig, task } from './helpers.js';

describe('a nacked message', () => {
  it('is republished with the same message id and confirmed by its ack', async () => {
    const { producer, broker, journal } = await startedRig();
    const receipt = await producer.publish(task(1));
    const session = broker.session;
    session.nack(1);

    await eventually(() => session.publishesOf('m-1').length === 2, 'the retry');
    const [first, retry] = session.publishesOf('m-1');
    expect(retry!.tag).toBe(2);
    expect(retry!.exchange).toBe(first!.exchange);
    expect(retry!.routingKey).toBe(first!.routingKey);
    expect(retry!.content.equals(first!.content)).toBe(true);
    expect(producer.status().messages.retrying).toBe(1);

    session.ack(2);
    await expect(receipt.settled).resolves.toBe('confirmed');
    expect(journal.pendingCount()).toBe(0);
    expect(producer.status().messages).toMatchObject({ confirmed: 1, retrying: 0, deadLettered: 0 });
  });

  it('nacked every time is dead-lettered after maxAttempts with its reason in headers', async () => {
    const acceptedAt = Date.now();
    const { producer, broker, journal } = await startedRig({ retry: { maxAttempts: 3 } });
    const receipt = await producer.publish(task(1, { headers: { traceparent: 't' } }));
    const session = broker.session;
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await eventually(() => session.publishesOf('m-1').length === attempt, `attempt ${attempt}`);
      const last = session.publishesOf('m-1').at(-1)!;
      expect(last.exchange).toBe('tasks');
      session.nack(last.tag);
    }

    await eventually(() => session.publishesOf('m-1').length === 4, 'the dead-letter publish');
    const deadLetter = session.publishesOf('m-1')[3]!;
    expect(deadLetter.exchange).toBe(DEAD_LETTER_EXCHANGE);
    expect(deadLetter.routingKey).toBe('ml.summarize');
    expect(deadLetter.properties.headers).toMatchObject({
      traceparent: 't',
      [DEAD_LETTER_HEADERS.reason]: 'NACKED',
      [DEAD_LETTER_HEADERS.attempts]: 3,
      [DEAD_LETTER_HEADERS.originalExchange]: 'tasks',
      [DEAD_LETTER_HEADERS.originalRoutingKey]: 'ml.summarize',
    });
    const firstAccepted = Date.parse(
      deadLetter.properties.headers![DEAD_LETTER_HEADERS.firstAcceptedAt] as string,
    );
    expect(firstAccepted).toBeGreaterThanOrEqual(acceptedAt);
    expect(firstAccepted).toBeLessThanOrEqual(Date.now());
    expect(journal.pendingCount()).toBe(1);

    session.ack(deadLetter.tag);
    await expect(receipt.settled).resolves.toBe('dead-lettered');
    expect(journal.pendingCount()).toBe(0);
    expect(producer.status().messages).toMatchObject({ deadLettered: 1, confirmed: 0, retrying: 0 });
  });

  it('whose dead-letter publish is nacked too is parked, and its hand-off retried', async () => {
    const { producer, broker, journal } = await startedRig({ retry: { maxAttempts: 1, parkedDelayMs: 30 } });
    const receipt = await producer.publish(task(1));
    const session = broker.session;
    session.nack(1);

    const deadLetters = () => session.publishesOf('m-1').filter((p) => p.exchange === DEAD_LETTER_EXCHANGE);
    await eventually(() => deadLetters().length === 1, 'the first hand-off');
    const nackedAt = Date.now();
    session.nack(deadLetters()[0]!.tag);
    await eventually(() => producer.status().messages.parked === 1, 'the message to be parked');
    expect(journal.pendingCount()).toBe(1);
    expect(producer.status().messages.retrying).toBe(0);

    await eventually(() => deadLetters().length === 2, 'the hand-off to be retried');
    // Not before the parked delay (30 ms; timers may fire a millisecond early by the wall clock).
    expect(deadLetters()[1]!.at - nackedAt).toBeGreaterThanOrEqual(28);
    expect(producer.status().messages.parked).toBe(0);
    session.ack(deadLetters()[1]!.tag);
    await expect(receipt.settled).resolves.toBe('dead-lettered');
    expect(journal.pendingCount()).toBe(0);
  });
});
