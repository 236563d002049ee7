/**
 * The operational log from producer events: each event's line with its documented fields, failure
 * details without credentials, and a storm of message events cut down to a bound plus one summary.
 */
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logProducerEvents } from '../../src/logging/operations-log.js';
import type { ProducerEvent } from '../../src/producer/producer-events.js';
import { jsonLog } from '../../src/service/log.js';

/** A JSON log whose lines are collected, parsed. */
function collected(): { lines: Record<string, unknown>[]; log: ReturnType<typeof jsonLog> } {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: jsonLog((line) => lines.push(JSON.parse(line) as Record<string, unknown>)) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the operational log', () => {
  it('writes each event with its stable fields, credentials redacted', () => {
    const { lines, log } = collected();
    const events = new Subject<ProducerEvent>();
    const running = logProducerEvents(events, { log, deadLetterExchange: 'ferry.dlx' });
    events.next({
      type: 'connection.retry-scheduled',
      attempt: 3,
      delayMs: 2300,
      jitterMs: 300,
      gaveUp: false,
      failureCode: 'CONNECTION_REFUSED',
      failureMessage: 'connect ECONNREFUSED amqp://ferry:hunter2@broker:5672',
    });
    events.next({
      type: 'breaker.changed',
      previous: 'closed',
      state: 'open',
      consecutiveFailures: 10,
      trips: 1,
      failureCode: 'NACKED',
      failureMessage: 'the broker nacked the message',
    });
    events.next({
      type: 'message.dead-lettered',
      messageId: 'm-1',
      attempts: 4,
      failureCode: 'RETURNED',
      failureMessage: 'returned: NO_ROUTE',
    });
    running.stop();

    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'reconnect attempt scheduled',
        event: 'connection.retry-scheduled',
        attempt: 3,
        delayMs: 2300,
        jitterMs: 300,
        gaveUp: false,
        reason: 'CONNECTION_REFUSED',
        detail: 'connect ECONNREFUSED amqp://ferry:***@broker:5672',
      }),
      expect.objectContaining({
        level: 'error',
        msg: 'circuit breaker open',
        event: 'breaker.changed',
        from: 'closed',
        to: 'open',
        consecutiveFailures: 10,
        reason: 'NACKED',
      }),
      expect.objectContaining({
        level: 'warn',
        event: 'message.dead-lettered',
        messageId: 'm-1',
        attempts: 4,
        reason: 'RETURNED',
        deadLetterExchange: 'ferry.dlx',
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('bounds a storm of message events per window and says how many it left out', () => {
    vi.useFakeTimers();
    const { lines, log } = collected();
    const events = new Subject<ProducerEvent>();
    const running = logProducerEvents(events, {
      log,
      deadLetterExchange: 'ferry.dlx',
      limits: { linesPerWindow: 5, windowMs: 1_000 },
    });
    const retry = (n: number): ProducerEvent => ({
      type: 'message.retry-scheduled',
      messageId: `m-${n}`,
      attempt: 2,
      delayMs: 1000,
      failureCode: 'CONNECTION_LOST',
      failureMessage: 'lost',
    });
    for (let n = 0; n < 105; n += 1) events.next(retry(n));
    // The connection's own lines are never held back by the messages' storm.
    events.next({ type: 'connection.changed', previous: 'connected', phase: 'reconnecting' });
    expect(lines.filter((line) => line.event === 'message.retry-scheduled')).toHaveLength(5);
    expect(lines.at(-1)).toMatchObject({ event: 'connection.changed' });
    expect(lines.some((line) => line.event === 'log.suppressed')).toBe(false);

    vi.advanceTimersByTime(1_000);
    expect(lines.at(-1)).toMatchObject({
      event: 'log.suppressed',
      suppressedEvent: 'message.retry-scheduled',
      suppressed: 100,
      windowMs: 1_000,
    });
    // A new window writes again.
    events.next(retry(200));
    expect(lines.at(-1)).toMatchObject({ event: 'message.retry-scheduled', messageId: 'm-200' });
    running.stop();
  });
});
