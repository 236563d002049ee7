/**
 * Checks on what ferry hands to its dead-letter exchange.
 */
import { expect } from 'vitest';
import { DEAD_LETTER_HEADERS } from '../../../src/producer/dead-letter-headers.js';
import type { PublishRequest } from '../../../src/producer/publish-request.js';
import type { Delivery } from '../../faults/support/scorer.js';

/** What a dead-lettered message must say about itself. */
export interface DeadLetterExpectation {
  readonly reason: string;
  readonly attempts: number;
  /** The message as it was published: its id, body and original destination. */
  readonly request: PublishRequest;
}

/** Asserts that `delivery` is `expected.request`, dead-lettered with the expected reason and attempts. */
export function expectDeadLetter(delivery: Delivery | undefined, expected: DeadLetterExpectation): void {
  expect(delivery, `dead letter of ${expected.request.messageId}`).toBeDefined();
  const { properties, content } = delivery as Delivery;
  const headers = properties.headers ?? {};
  expect(delivery?.messageId).toBe(expected.request.messageId);
  expect(JSON.parse(content.toString('utf8'))).toEqual(expected.request.body);
  expect(properties.deliveryMode).toBe(2);
  expect(headers[DEAD_LETTER_HEADERS.reason]).toBe(expected.reason);
  expect(headers[DEAD_LETTER_HEADERS.attempts]).toBe(expected.attempts);
  expect(headers[DEAD_LETTER_HEADERS.originalExchange]).toBe(expected.request.exchange);
  expect(headers[DEAD_LETTER_HEADERS.originalRoutingKey]).toBe(expected.request.routingKey);
  expect(typeof headers[DEAD_LETTER_HEADERS.error]).toBe('string');
  expect(Date.parse(String(headers[DEAD_LETTER_HEADERS.deadLetteredAt]))).not.toBeNaN();
}
