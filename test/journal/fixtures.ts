/** Messages and events for the journal tests. */
import type { OutboundMessage } from '../../src/message/outbound-message.js';

/** An accepted message as the producer would journal it; `bytes` sets the body size. */
export function outbound(messageId: string, bytes = 16, acceptedAt = 1_700_000_000_000): OutboundMessage {
  return {
    messageId,
    exchange: 'tasks',
    routingKey: 'ml.summarize',
    content: Buffer.alloc(bytes, 0x61),
    acceptedAt,
    properties: {
      messageId,
      contentType: 'application/json',
      timestamp: Math.floor(acceptedAt / 1000),
      persistent: true,
      appId: 'ferry',
      headers: { traceparent: '00-abc-def-01', raw: Buffer.from([1, 2, 3]) },
    },
  };
}
