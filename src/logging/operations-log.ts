/**
 * The service's operational log: one structured line per thing an operator watches for — each
 * reconnect attempt with its drawn delay and jitter, connection changes, failed health checks, each
 * message retry, dead-letter hand-off and park, and the breaker's changes — written from the
 * producer's public events (`producer.events$`). The field names are stable and documented in
 * docs/operations/logs.md. Message events, which a storm repeats per message, go through a
 * {@link StormLimiter}. No message body ever reaches an event, and failure details are written with
 * every URL's credentials redacted.
 */
import type { Observable } from 'rxjs';
import { redactUrl } from '../errors.js';
import type { ProducerEvent } from '../producer/producer-events.js';
import type { Log } from '../service/log.js';
import { StormLimiter, type StormLimiterOptions } from './storm-limiter.js';

/** Options of {@link logProducerEvents}. */
export interface OperationsLogOptions {
  readonly log: Log;
  /** The exchange dead letters are handed to, named on each dead-letter line. */
  readonly deadLetterExchange: string;
  /** Bounds on the message events' lines; see {@link StormLimiter}. */
  readonly limits?: Omit<StormLimiterOptions, 'onSuppressed'>;
}

/** A running operational log; `stop()` unsubscribes and writes any summary still due. */
export interface OperationsLog {
  stop(): void;
}

type Line = readonly [level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>];

/** A failure as the log writes it: the code as `reason`, the message as `detail`. */
const failure = (event: { readonly failureCode?: string; readonly failureMessage?: string }) =>
  event.failureCode === undefined
    ? {}
    : { reason: event.failureCode, detail: redactUrl(event.failureMessage ?? '') };

/** The line an event writes. */
function lineOf(event: ProducerEvent, deadLetterExchange: string): Line {
  const base = { event: event.type };
  switch (event.type) {
    case 'connection.changed':
      return ['info', 'connection state changed', { ...base, from: event.previous, to: event.phase }];
    case 'connection.retry-scheduled':
      return [
        event.gaveUp ? 'error' : 'warn',
        event.gaveUp
          ? 'reconnect attempt scheduled at the max delay (attempt budget spent)'
          : 'reconnect attempt scheduled',
        {
          ...base,
          attempt: event.attempt,
          delayMs: event.delayMs,
          jitterMs: event.jitterMs,
          gaveUp: event.gaveUp,
          ...failure(event),
        },
      ];
    case 'connection.health-check-failed':
      return ['warn', 'health check failed', { ...base, failures: event.failures, ...failure(event) }];
    case 'breaker.changed':
      return [
        event.state === 'open' ? 'error' : 'info',
        `circuit breaker ${event.state === 'halfOpen' ? 'half-open' : event.state}`,
        {
          ...base,
          from: event.previous,
          to: event.state,
          consecutiveFailures: event.consecutiveFailures,
          trips: event.trips,
          ...(event.state === 'open' ? failure(event) : {}),
        },
      ];
    case 'message.retry-scheduled':
      return [
        'warn',
        'message retry scheduled',
        {
          ...base,
          messageId: event.messageId,
          attempt: event.attempt,
          delayMs: event.delayMs,
          ...failure(event),
        },
      ];
    case 'message.retried':
      return [
        'info',
        'message republished',
        { ...base, messageId: event.messageId, attempt: event.attempts + 1 },
      ];
    case 'message.confirmed':
      return [
        'info',
        'message confirmed after retries',
        { ...base, messageId: event.messageId, attempts: event.attempts },
      ];
    case 'message.dead-lettered':
      return [
        'warn',
        'message dead-lettered',
        {
          ...base,
          messageId: event.messageId,
          attempts: event.attempts,
          deadLetterExchange,
          ...failure(event),
        },
      ];
    case 'message.parked':
      return [
        'error',
        'message parked: its dead-letter hand-off failed; kept in the journal and handed off again later',
        {
          ...base,
          messageId: event.messageId,
          attempts: event.attempts,
          deadLetterExchange,
          ...failure(event),
        },
      ];
  }
}

/** Writes the operational log of `events$` to `options.log` until stopped. */
export function logProducerEvents(
  events$: Observable<ProducerEvent>,
  options: OperationsLogOptions,
): OperationsLog {
  const { log, deadLetterExchange } = options;
  const limiter = new StormLimiter({
    ...options.limits,
    onSuppressed: (kind, suppressed, windowMs) =>
      log('warn', 'log lines suppressed during a storm', {
        event: 'log.suppressed',
        suppressedEvent: kind,
        suppressed,
        windowMs,
      }),
  });
  const subscription = events$.subscribe((event) => {
    // Per-message events repeat once per message in a storm; the producer's own are few.
    if (event.type.startsWith('message.') && !limiter.admit(event.type)) return;
    const [level, msg, fields] = lineOf(event, deadLetterExchange);
    log(level, msg, fields);
  });
  return {
    stop: () => {
      subscription.unsubscribe();
      limiter.flush();
    },
  };
}
