/**
 * One PRODUCER span per accepted message, from acceptance to its outcome, with the faults it met on the
 * way as span events; its context goes into the message's headers as top-level text (`traceparent`,
 * `tracestate`, `baggage`, whatever the global propagator writes), so a Celery worker continues the
 * trace, and the journal keeps it for a recovery span to link to. Also the semconv client metrics.
 *
 * @internal
 */
import type { Attributes, Span, TextMapGetter } from '@opentelemetry/api';
import { Accepted } from '../producer/accepted.js';
import type { AdoptedFrom, FailedAnswer, MessageTrace, UnknownCause } from '../producer/message-trace.js';
import type { Settlement } from '../producer/receipt.js';
import { type OtelApi, otelApi } from './otel-api.js';
import { MeterSource, TracerSource } from './providers.js';
import {
  ATTR,
  destinationName,
  EVENT,
  FERRY_ATTR,
  OPERATION_NAME,
  OPERATION_TYPE,
  type ServerAttributes,
  SYSTEM,
  serverOf,
} from './semconv.js';

/** What {@link ProducerTracing} needs. */
export interface ProducerTracingDependencies {
  readonly api: OtelApi;
  /** The broker URL the producer is connected to, or would connect to first. */
  readonly endpoint: () => string | undefined;
}

type Headers = Readonly<Record<string, unknown>>;

/** Reads text headers only: a Buffer or nested value is no trace context. */
const headerGetter: TextMapGetter<Headers> = {
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
  keys: (carrier) => Object.keys(carrier),
};

const ANSWER_EVENTS: Readonly<Record<FailedAnswer, string>> = {
  nacked: EVENT.nacked,
  returned: EVENT.returned,
  'confirm-timeout': EVENT.confirmTimeout,
  'channel-lost': EVENT.channelLost,
};

/**
 * The OpenTelemetry implementation of the producer's tracing seam.
 *
 * @internal
 */
export class ProducerTracing implements MessageTrace {
  /** The open span of each message, by id. */
  private readonly spans = new Map<string, Span>();
  private readonly tracers: TracerSource;
  private readonly meters: MeterSource;
  private serverUrl: string | undefined;
  private server: ServerAttributes | null = null;

  constructor(private readonly dependencies: ProducerTracingDependencies) {
    this.tracers = new TracerSource(dependencies.api);
    this.meters = new MeterSource(dependencies.api);
  }

  start(batch: Accepted[]): Accepted[] {
    const tracer = this.tracers.current();
    if (tracer === null) return batch;
    const { api } = this.dependencies;
    const active = api.context.active();
    const activeSpan = api.trace.getSpanContext(active);
    const hasActiveSpan = activeSpan !== undefined && api.isSpanContextValid(activeSpan);
    const traced = new Array<Accepted>(batch.length);
    for (let i = 0; i < batch.length; i += 1) {
      const { message } = batch[i] as Accepted;
      const given = message.properties.headers ?? {};
      // A span active in the caller is the parent; without one, a traceparent the caller put in the
      // headers is (it continues the trace the caller named explicitly).
      const parent = hasActiveSpan ? active : api.propagation.extract(active, given, headerGetter);
      const span = tracer.startSpan(
        `${OPERATION_NAME} ${destinationName(message.exchange, message.routingKey)}`,
        { kind: api.SpanKind.PRODUCER, attributes: this.attributes(message) },
        parent,
      );
      const headers: Record<string, unknown> = { ...given };
      api.propagation.inject(api.trace.setSpan(parent, span), headers);
      traced[i] = new Accepted({ ...message, properties: { ...message.properties, headers } });
      this.spans.set(message.messageId, span);
    }
    return traced;
  }

  refused(batch: readonly Accepted[], failure: { readonly code: string }): void {
    for (const accepted of batch) this.end(accepted.messageId, failure.code, null);
  }

  adopted(accepted: Accepted, from: AdoptedFrom): void {
    const tracer = this.tracers.current();
    if (tracer === null) return;
    const { api } = this.dependencies;
    const { message } = accepted;
    const carried = api.trace.getSpanContext(
      api.propagation.extract(api.ROOT_CONTEXT, message.properties.headers ?? {}, headerGetter),
    );
    const attributes = this.attributes(message);
    attributes[FERRY_ATTR.adoptedFrom] = from;
    const span = tracer.startSpan(
      `${OPERATION_NAME} ${destinationName(message.exchange, message.routingKey)}`,
      {
        kind: api.SpanKind.PRODUCER,
        attributes,
        root: true,
        links: carried !== undefined && api.isSpanContextValid(carried) ? [{ context: carried }] : [],
      },
      api.ROOT_CONTEXT,
    );
    this.spans.get(message.messageId)?.end();
    // A catch is how an unroutable message shows under the alternate exchange: its return.
    if (from === 'alternate-exchange') span.addEvent(EVENT.returned);
    this.spans.set(message.messageId, span);
  }

  failed(messageId: string, answer: FailedAnswer): void {
    this.spans.get(messageId)?.addEvent(ANSWER_EVENTS[answer]);
  }

  outcomeUnknown(messageId: string, cause: UnknownCause): void {
    if (cause !== 'connection-lost') return;
    this.spans.get(messageId)?.addEvent(EVENT.requeued, { [FERRY_ATTR.failure]: 'CONNECTION_LOST' });
  }

  retried(messageId: string, attempts: number): void {
    this.spans.get(messageId)?.addEvent(EVENT.retry, { [FERRY_ATTR.attempts]: attempts });
  }

  parked(messageId: string, failureCode: string): void {
    this.spans.get(messageId)?.addEvent(EVENT.parked, { [FERRY_ATTR.failure]: failureCode });
  }

  settled(accepted: Accepted, outcome: Settlement, elapsedMs: number, failureCode?: string): void {
    const failure = outcome === 'confirmed' ? undefined : (failureCode ?? 'DEAD_LETTERED');
    const instruments = this.meters.current();
    if (instruments !== null) {
      const { message } = accepted;
      const attributes: Attributes = {
        [ATTR.system]: SYSTEM,
        [ATTR.operationName]: OPERATION_NAME,
        [ATTR.operationType]: OPERATION_TYPE,
        [ATTR.destination]: destinationName(message.exchange, message.routingKey),
      };
      this.addServer(attributes);
      if (failure !== undefined) attributes[ATTR.errorType] = failure;
      instruments.sent.add(1, attributes);
      instruments.duration.record(elapsedMs / 1000, attributes);
    }
    if (failure !== undefined)
      this.spans.get(accepted.messageId)?.addEvent(EVENT.deadLettered, { [FERRY_ATTR.failure]: failure });
    this.end(accepted.messageId, failure ?? null, outcome);
  }

  closed(): void {
    for (const span of this.spans.values()) {
      span.addEvent(EVENT.closed);
      span.end();
    }
    this.spans.clear();
  }

  /** Ends a message's span: as an error with `failure`, else as a success. */
  private end(messageId: string, failure: string | null, outcome: Settlement | null): void {
    const span = this.spans.get(messageId);
    if (span === undefined) return;
    this.spans.delete(messageId);
    if (outcome !== null) span.setAttribute(FERRY_ATTR.outcome, outcome);
    if (failure !== null) {
      span.setAttribute(ATTR.errorType, failure);
      span.setStatus({ code: this.dependencies.api.SpanStatusCode.ERROR, message: failure });
    }
    span.end();
  }

  /** A span's attributes at its start. */
  private attributes(message: Accepted['message']): Attributes {
    const attributes: Attributes = {
      [ATTR.system]: SYSTEM,
      [ATTR.operationName]: OPERATION_NAME,
      [ATTR.operationType]: OPERATION_TYPE,
      [ATTR.destination]: destinationName(message.exchange, message.routingKey),
      [ATTR.messageId]: message.messageId,
      [ATTR.bodySize]: message.content.byteLength,
    };
    if (message.routingKey !== '') attributes[ATTR.routingKey] = message.routingKey;
    const { correlationId } = message.properties;
    if (correlationId !== undefined) attributes[ATTR.conversationId] = correlationId;
    this.addServer(attributes);
    return attributes;
  }

  /** `server.address`/`server.port` of the broker, parsed once per URL. */
  private addServer(attributes: Attributes): void {
    const url = this.dependencies.endpoint();
    if (url !== this.serverUrl) {
      this.serverUrl = url;
      this.server = url === undefined ? null : serverOf(url);
    }
    if (this.server === null) return;
    attributes[ATTR.serverAddress] = this.server.address;
    attributes[ATTR.serverPort] = this.server.port;
  }
}

/**
 * The producer's message tracer: `null`, and nothing loaded, when `@opentelemetry/api` is not installed.
 *
 * @internal
 */
export function messageTrace(endpoint: () => string | undefined): MessageTrace | null {
  const api = otelApi();
  return api === null ? null : new ProducerTracing({ api, endpoint });
}
