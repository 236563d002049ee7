/**
 * What a publish span and the client metrics say about a destination (its name, the system, the
 * operation, the broker's address), built once per destination and broker endpoint instead of once per
 * message: a message's span attributes are a shallow copy of its destination's template with its own id
 * and size written over the placeholders, so every copy has the template's shape.
 *
 * @internal
 */
import type { Attributes } from '@opentelemetry/api';
import { ATTR, destinationName, OPERATION_NAME, OPERATION_TYPE, SYSTEM, serverOf } from './semconv.js';

/** One destination's span name and attributes. */
export interface DestinationTemplate {
  /** `publish {destination}`. */
  readonly spanName: string;
  /** A span's attributes, with placeholders for `messaging.message.id` and `.body.size`: copy, never change. */
  readonly spanAttributes: Attributes;
  /** The client metrics' attributes of a confirmed message: shared by every record, never changed. */
  readonly metricAttributes: Attributes;
}

/**
 * Destinations kept at most: a producer publishes to a handful, and one that names a fresh routing key
 * per message must not grow the cache without end.
 */
const MAX_DESTINATIONS = 1_024;

/**
 * The templates of the destinations a producer publishes to, for the broker it is connected to.
 *
 * @internal
 */
export class DestinationTemplates {
  private readonly byDestination = new Map<string, DestinationTemplate>();
  private endpoint: string | undefined;
  private server: Attributes = {};

  /** `endpoint`: the broker URL the producer is connected to, or would connect to first. */
  constructor(private readonly currentEndpoint: () => string | undefined) {}

  /** The template of a publish to `exchange` with `routingKey`. */
  of(exchange: string, routingKey: string): DestinationTemplate {
    const endpoint = this.currentEndpoint();
    if (endpoint !== this.endpoint) {
      // Another broker: every template names the old one.
      this.endpoint = endpoint;
      this.server = serverAttributes(endpoint);
      this.byDestination.clear();
    }
    // '\n' cannot be in an exchange name (a short string the broker refuses with it).
    const key = `${exchange}\n${routingKey}`;
    let template = this.byDestination.get(key);
    if (template === undefined) {
      if (this.byDestination.size >= MAX_DESTINATIONS) this.byDestination.clear();
      template = buildTemplate(exchange, routingKey, this.server);
      this.byDestination.set(key, template);
    }
    return template;
  }
}

/** `server.address`/`server.port` of a broker URL; none when it is unknown or does not parse. */
function serverAttributes(url: string | undefined): Attributes {
  const server = url === undefined ? null : serverOf(url);
  return server === null ? {} : { [ATTR.serverAddress]: server.address, [ATTR.serverPort]: server.port };
}

function buildTemplate(exchange: string, routingKey: string, server: Attributes): DestinationTemplate {
  const destination = destinationName(exchange, routingKey);
  const metricAttributes: Attributes = {
    [ATTR.system]: SYSTEM,
    [ATTR.operationName]: OPERATION_NAME,
    [ATTR.operationType]: OPERATION_TYPE,
    [ATTR.destination]: destination,
    ...server,
  };
  const spanAttributes: Attributes = {
    ...metricAttributes,
    [ATTR.messageId]: '',
    [ATTR.bodySize]: 0,
  };
  if (routingKey !== '') spanAttributes[ATTR.routingKey] = routingKey;
  return {
    spanName: `${OPERATION_NAME} ${destination}`,
    spanAttributes,
    metricAttributes: Object.freeze(metricAttributes),
  };
}
