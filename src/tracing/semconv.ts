/**
 * The OpenTelemetry messaging semantic conventions ferry follows for RabbitMQ (semconv 1.27 and later:
 * `messaging.operation.name`/`.type`, the producer's destination `{exchange}:{routing key}`), and the
 * names of ferry's own span events. Written out rather than taken from
 * `@opentelemetry/semantic-conventions`, whose messaging names are in its unstable entry point.
 */

/** Attribute names. */
export const ATTR = {
  system: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  destination: 'messaging.destination.name',
  routingKey: 'messaging.rabbitmq.destination.routing_key',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  bodySize: 'messaging.message.body.size',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
} as const;

/** ferry's attributes on its span events and spans. */
export const FERRY_ATTR = {
  attempts: 'ferry.attempts',
  failure: 'ferry.failure.code',
  adoptedFrom: 'ferry.adopted_from',
  outcome: 'ferry.outcome',
} as const;

/** The span events of a message's life off the healthy path. */
export const EVENT = {
  nacked: 'ferry.nacked',
  returned: 'ferry.returned',
  confirmTimeout: 'ferry.confirm_timeout',
  channelLost: 'ferry.channel_lost',
  requeued: 'ferry.requeued',
  retry: 'ferry.retry',
  deadLettered: 'ferry.dead_lettered',
  parked: 'ferry.parked',
  closed: 'ferry.closed_unsettled',
} as const;

/** `messaging.system`. */
export const SYSTEM = 'rabbitmq';
/** `messaging.operation.name` of a publish. */
export const OPERATION_NAME = 'publish';
/** `messaging.operation.type` of a publish. */
export const OPERATION_TYPE = 'send';

/**
 * `messaging.destination.name` of a publish: `{exchange}:{routing key}` when both are non-empty, the one
 * that is otherwise, and `amq.default` for the default exchange without a routing key.
 */
export function destinationName(exchange: string, routingKey: string): string {
  if (exchange !== '' && routingKey !== '') return `${exchange}:${routingKey}`;
  if (exchange !== '') return exchange;
  return routingKey === '' ? 'amq.default' : routingKey;
}

/** A broker endpoint as `server.address` and `server.port`. */
export interface ServerAttributes {
  readonly address: string;
  readonly port: number;
}

/** `server.address`/`server.port` of an AMQP URL; `null` when it does not parse. */
export function serverOf(url: string): ServerAttributes | null {
  try {
    const parsed = new URL(url);
    const port = parsed.port === '' ? (parsed.protocol === 'amqps:' ? 5671 : 5672) : Number(parsed.port);
    // IPv6 literals come bracketed from URL; the attribute holds the address alone.
    return { address: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  } catch {
    return null;
  }
}
