/**
 * Headers that tell an operator why a message was dead-lettered and where it was going.
 */
import type { MessageEffectInput } from '../../machines/message.machine.js';
import type { OutboundMessage } from '../message/outbound-message.js';

/** Header names ferry sets on dead-lettered messages; documented for operators and `ferry dlq`. */
export const DEAD_LETTER_HEADERS = {
  reason: 'x-ferry-reason',
  error: 'x-ferry-error',
  attempts: 'x-ferry-attempts',
  originalExchange: 'x-ferry-original-exchange',
  originalRoutingKey: 'x-ferry-original-routing-key',
  firstAcceptedAt: 'x-ferry-first-accepted-at',
  deadLetteredAt: 'x-ferry-dead-lettered-at',
} as const;

/**
 * The headers added to a message's own when it is handed to the dead-letter exchange.
 *
 * @internal
 */
export function deadLetterHeaders(
  message: OutboundMessage,
  input: MessageEffectInput,
  now: number,
): Readonly<Record<string, unknown>> {
  return {
    [DEAD_LETTER_HEADERS.reason]: input.lastFailure.code,
    [DEAD_LETTER_HEADERS.error]: input.lastFailure.message,
    [DEAD_LETTER_HEADERS.attempts]: input.attempts,
    [DEAD_LETTER_HEADERS.originalExchange]: message.exchange,
    [DEAD_LETTER_HEADERS.originalRoutingKey]: message.routingKey,
    [DEAD_LETTER_HEADERS.firstAcceptedAt]: new Date(message.acceptedAt).toISOString(),
    [DEAD_LETTER_HEADERS.deadLetteredAt]: new Date(now).toISOString(),
  };
}
