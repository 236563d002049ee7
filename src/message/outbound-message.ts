/**
 * The message ferry owns once it accepted it: what the journal stores and the producer publishes. It
 * sits below both, so neither imports the other for it.
 */

/** AMQP basic properties ferry sets on every message. */
export interface MessageProperties {
  readonly messageId: string;
  readonly correlationId?: string;
  readonly contentType: string;
  readonly contentEncoding?: string;
  readonly headers?: Readonly<Record<string, unknown>>;
  /** Seconds since the epoch, as AMQP defines it; with the `timestamp` option. */
  readonly timestamp?: number;
  readonly persistent: true;
  readonly type?: string;
  readonly priority?: number;
  /** Per-message TTL, ms. */
  readonly expiration?: number;
  /** With the `appId` option. */
  readonly appId?: string;
}

/** An accepted message: everything needed to publish it again, after a retry or a restart. */
export interface OutboundMessage {
  readonly messageId: string;
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly properties: MessageProperties;
  /** When ferry accepted it, ms since the epoch. */
  readonly acceptedAt: number;
}
