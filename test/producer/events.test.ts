/**
 * `producer.events$` on the fake broker: connection and breaker changes, and retried, parked,
 * dead-lettered and confirmed-after-failure messages with their ids, in the order they happened.
 */
import type { Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { DEAD_LETTER_EXCHANGE } from '../../src/amqp/topology.js';
import { FerryError } from '../../src/errors.js';
import type { Producer } from '../../src/producer/producer.js';
import type { ProducerEvent } from '../../src/producer/producer-events.js';
import { eventually, startedRig, task } from './helpers.js';

const subscriptions: Subscription[] = [];
afterEach(() => {
  for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
});

/** Collects `producer.events$` into an array. */
function record(producer: Producer): { events: ProducerEvent[]; completed: () => boolean } {
  const events: ProducerEvent[] = [];
  let done = false;
  subscriptions.push(
    producer.events$.subscribe({ next: (event) => events.push(event), complete: () => (done = true) }),
  );
  return { events, completed: () => done };
}

const types = (events: readonly ProducerEvent[]): string[] => events.map((event) => event.type);

describe('producer.events$', () => {
  it('reports a nacked message retried, then confirmed, with its id', async () => {
    const { producer, broker } = await startedRig();
    const { events } = record(producer);
    const receipt = await producer.publish(task(1));
    const session = broker.session;
    session.nack(1);
    await eventually(() => session.publishesOf('m-1').length === 2, 'the retry');
    session.ack(2);
    await expect(receipt.settled).resolves.toBe('confirmed');

    expect(events).toEqual([
      {
        type: 'message.retry-scheduled',
        messageId: 'm-1',
        attempt: 2,
        delayMs: expect.any(Number),
        failureCode: 'NACKED',
        failureMessage: expect.any(String),
      },
      { type: 'message.retried', messageId: 'm-1', attempts: 1 },
      { type: 'message.confirmed', messageId: 'm-1', attempts: 1 },
    ]);
    // The rig's retry policy: 5 ms for the first retry, plus up to 30 % jitter.
    const scheduled = events[0] as Extract<ProducerEvent, { type: 'message.retry-scheduled' }>;
    expect(scheduled.delayMs).toBeGreaterThanOrEqual(5);
    expect(scheduled.delayMs).toBeLessThanOrEqual(Math.round(5 * 1.3));
  });

  it('reports a message parked when its hand-off fails, then dead-lettered', async () => {
    const { producer, broker } = await startedRig({ retry: { maxAttempts: 1, parkedDelayMs: 30 } });
    const { events } = record(producer);
    const receipt = await producer.publish(task(7));
    const session = broker.session;
    session.nack(1);
    const handOffs = () => session.publishesOf('m-7').filter((p) => p.exchange === DEAD_LETTER_EXCHANGE);
    await eventually(() => handOffs().length === 1, 'the first hand-off');
    session.nack(handOffs()[0]!.tag);
    await eventually(() => handOffs().length === 2, 'the hand-off retried');
    session.ack(handOffs()[1]!.tag);
    await expect(receipt.settled).resolves.toBe('dead-lettered');

    expect(types(events)).toEqual(['message.parked', 'message.dead-lettered']);
    expect(events[0]).toMatchObject({ messageId: 'm-7', attempts: 1, failureCode: 'NACKED' });
    expect(events[1]).toMatchObject({ messageId: 'm-7', attempts: 1, failureCode: 'NACKED' });
  });

  it('reports connection phases through a dropped connection', async () => {
    const { producer, broker } = await startedRig();
    const { events } = record(producer);
    broker.session.dropConnection();
    await eventually(
      () => events.filter((e) => e.type === 'connection.changed').at(-1)?.phase === 'connected',
      'the reconnect',
    );
    const phases = events.flatMap((e) => (e.type === 'connection.changed' ? [[e.previous, e.phase]] : []));
    expect(phases[0]).toEqual(['connected', 'reconnecting']);
    // The attempt it scheduled, with the delay drawn for it: the rig's 5 ms plus up to 30 % jitter.
    const scheduled = events.find((e) => e.type === 'connection.retry-scheduled');
    expect(scheduled).toMatchObject({ attempt: 1, gaveUp: false, failureCode: expect.any(String) });
    if (scheduled?.type !== 'connection.retry-scheduled') return;
    expect(scheduled.delayMs - scheduled.jitterMs).toBe(5);
    expect(scheduled.jitterMs).toBeGreaterThanOrEqual(0);
    expect(scheduled.jitterMs).toBeLessThanOrEqual(Math.round(5 * 0.3));
    // Each change starts where the one before ended.
    for (let i = 1; i < phases.length; i += 1) expect(phases[i]![0]).toBe(phases[i - 1]![1]);
  });

  it('reports the breaker opening and probing', async () => {
    const { producer, broker } = await startedRig({ breaker: { failureThreshold: 1, cooldownMs: 50 } });
    const { events } = record(producer);
    await producer.publish(task(1));
    broker.session.nack(1);
    await eventually(
      () => events.some((e) => e.type === 'breaker.changed' && e.state === 'halfOpen'),
      'probe',
    );
    const breaker = events.filter((e) => e.type === 'breaker.changed');
    expect(breaker.slice(0, 2)).toEqual([
      {
        type: 'breaker.changed',
        previous: 'closed',
        state: 'open',
        consecutiveFailures: 1,
        trips: 1,
        failureCode: 'NACKED',
        failureMessage: expect.any(String),
      },
      expect.objectContaining({ type: 'breaker.changed', previous: 'open', state: 'halfOpen', trips: 1 }),
    ]);
  });

  it('reports a failed health check with its failure, then the reconnect it causes', async () => {
    const { producer, broker } = await startedRig({ connection: { healthCheckIntervalMs: 5 } });
    const { events } = record(producer);
    broker.session.healthCheck = () => Promise.reject(new FerryError('NOT_FOUND', 'no exchange tasks'));
    await eventually(() => events.some((e) => e.type === 'connection.retry-scheduled'), 'the reconnect');
    const failed = events.filter((e) => e.type !== 'connection.changed');
    expect(failed.slice(0, 2)).toEqual([
      {
        type: 'connection.health-check-failed',
        failures: 1,
        failureCode: 'NOT_FOUND',
        failureMessage: 'no exchange tasks',
      },
      expect.objectContaining({ type: 'connection.retry-scheduled', attempt: 1, failureCode: 'NOT_FOUND' }),
    ]);
  });

  it('completes when the producer closes and stops reporting once unsubscribed', async () => {
    const { producer, broker } = await startedRig();
    const first = record(producer);
    const second = record(producer);
    subscriptions[0]!.unsubscribe();
    await producer.publish(task(1));
    broker.session.nack(1);
    await eventually(() => second.events.length === 1, 'the retry event');
    expect(first.events).toEqual([]);
    await producer.close({ timeoutMs: 0 });
    expect(second.completed()).toBe(true);
  });
});
