/**
 * What a publish span and the client metrics say about a destination (its name, the system, the
 * operation, the broker's address, the routing key), built once per destination and broker endpoint
 * instead of once per message, and shared by every span started for it: the SDK copies a span's
 * starting attributes, so they need no copy of ferry's, and a message's own attributes (id, size,
 * correlation id) are set on its span after it started. Those are not among the semantic conventions'
 * sampling-relevant attributes, which is what starting attributes are for; set afterwards, each is
 * checked once by the SDK instead of three times.
 *
 * @internal
 */
import type { Attributes } from '@opentelemetry/api';
import { ATTR, destinationName, OPERATION_NAME, OPERATION_TYPE, SYSTEM, serverOf } from './semconv.js';

/** One destination's span name and attributes. */
export interface DestinationTemplate {
  /** `publish {destination}`. */
  readonly spanName: string;
  /** A span's starting attributes: shared by every span of the destination, frozen. */
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
  /** The last destination asked for, and its template: a batch mostly goes to one destination. */
  private lastExchange = '';
  private lastRoutingKey = '';
  private last: DestinationTemplate | null = null;

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
      this.last = null;
    } else if (this.last !== null && exchange === this.lastExchange && routingKey === this.lastRoutingKey) {
      return this.last;
    }
    // '\n' cannot be in an exchange name (a short string the broker refuses with it).
    const key = `${exchange}\n${routingKey}`;
    let template = this.byDestination.get(key);
    if (template === undefined) {
      if (this.byDestination.size >= MAX_DESTINATIONS) this.byDestination.clear();
      template = buildTemplate(exchange, routingKey, this.server);
      this.byDestination.set(key, template);
    }
    this.lastExchange = exchange;
    this.lastRoutingKey = routingKey;
    this.last = template;
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
  const spanAttributes: Attributes = { ...metricAttributes };
  if (routingKey !== '') spanAttributes[ATTR.routingKey] = routingKey;
  return {
    spanName: `${OPERATION_NAME} ${destination}`,
    spanAttributes: Object.freeze(spanAttributes),
    metricAttributes: Object.freeze(metricAttributes),
  };
}
