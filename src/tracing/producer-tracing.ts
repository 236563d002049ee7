/**
 * One PRODUCER span per accepted message, from acceptance to its outcome, with the faults it met on the
 * way as span events; its context goes into the message's headers as top-level text (`traceparent`,
 * `tracestate`, `baggage`, whatever the global propagator writes), so a Celery worker continues the
 * trace, and the journal keeps it for a recovery span to link to. Also the semconv client metrics.
 *
 * @internal
 */
import type { Span, SpanOptions, TextMapGetter } from '@opentelemetry/api';
import type { Accepted } from '../producer/accepted.js';
import type { AdoptedFrom, FailedAnswer, MessageTrace, UnknownCause } from '../producer/message-trace.js';
import type { Settlement } from '../producer/receipt.js';
import { BatchedCount } from './batched-count.js';
import { type DestinationTemplate, DestinationTemplates } from './destination-attributes.js';
import { HeaderInjector } from './header-injector.js';
import { type OtelApi, otelApi } from './otel-api.js';
import { MeterSource, TracerSource } from './providers.js';
import { ATTR, EVENT, FERRY_ATTR } from './semconv.js';

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
  private readonly tracers: TracerSource;
  private readonly meters: MeterSource;
  private readonly templates: DestinationTemplates;
  private readonly injector: HeaderInjector;
  private readonly sent = new BatchedCount();

  constructor(private readonly dependencies: ProducerTracingDependencies) {
    this.tracers = new TracerSource(dependencies.api);
    this.meters = new MeterSource(dependencies.api);
    this.templates = new DestinationTemplates(dependencies.endpoint);
    this.injector = new HeaderInjector(dependencies.api);
  }

  start(batch: Accepted[]): Accepted[] {
    const tracer = this.tracers.current();
    if (tracer === null) return batch;
    const { api } = this.dependencies;
    const active = api.context.active();
    const activeSpan = api.trace.getSpanContext(active);
    const hasActiveSpan = activeSpan !== undefined && api.isSpanContextValid(activeSpan);
    this.injector.startBatch(active);
    // One options object per destination met in the batch: the SDK only reads it.
    let template: DestinationTemplate | null = null;
    let options: SpanOptions = {};
    for (let i = 0; i < batch.length; i += 1) {
      const accepted = batch[i] as Accepted;
      const { message } = accepted;
      // The object toOutboundMessage built for this message, never the caller's: its headers are set
      // in place, which saves a copy of the message, its properties and its receipt per message.
      const properties: { headers?: Headers } = message.properties;
      const given = properties.headers;
      // A span active in the caller is the parent; without one, a traceparent the caller put in the
      // headers is (it continues the trace the caller named explicitly).
      const parent =
        hasActiveSpan || given === undefined ? active : api.propagation.extract(active, given, headerGetter);
      const destination = this.templates.of(message.exchange, message.routingKey);
      if (destination !== template) {
        template = destination;
        options = { kind: api.SpanKind.PRODUCER, attributes: destination.spanAttributes };
      }
      const span = tracer.startSpan(destination.spanName, options, parent);
      const headers = this.injector.headersOf(parent, span);
      properties.headers = given === undefined ? headers : { ...given, ...headers };
      // A span the sampler left unrecorded still carries its context in the headers, but nothing
      // written on it would be kept: it is neither attributed nor held until its outcome.
      if (!span.isRecording()) continue;
      setMessageAttributes(span, accepted);
      accepted.traced = span;
    }
    return batch;
  }

  refused(batch: readonly Accepted[], failure: { readonly code: string }): void {
    for (const accepted of batch) this.end(accepted, failure.code, null);
  }

  adopted(accepted: Accepted, from: AdoptedFrom): void {
    const tracer = this.tracers.current();
    if (tracer === null) return;
    const { api } = this.dependencies;
    const { message } = accepted;
    const carried = api.trace.getSpanContext(
      api.propagation.extract(api.ROOT_CONTEXT, message.properties.headers ?? {}, headerGetter),
    );
    const template = this.templates.of(message.exchange, message.routingKey);
    const span = tracer.startSpan(
      template.spanName,
      {
        kind: api.SpanKind.PRODUCER,
        attributes: { ...template.spanAttributes, [FERRY_ATTR.adoptedFrom]: from },
        root: true,
        links: carried !== undefined && api.isSpanContextValid(carried) ? [{ context: carried }] : [],
      },
      api.ROOT_CONTEXT,
    );
    // The record is a fresh one, read from the journal or the catch: an earlier record of the same
    // message, if this process still holds one, ends its own span at its own outcome.
    if (!span.isRecording()) return;
    setMessageAttributes(span, accepted);
    // A catch is how an unroutable message shows under the alternate exchange: its return.
    if (from === 'alternate-exchange') span.addEvent(EVENT.returned);
    accepted.traced = span;
  }

  failed(accepted: Accepted, answer: FailedAnswer): void {
    spanOf(accepted)?.addEvent(ANSWER_EVENTS[answer]);
  }

  outcomeUnknown(accepted: Accepted, cause: UnknownCause): void {
    if (cause !== 'connection-lost') return;
    spanOf(accepted)?.addEvent(EVENT.requeued, { [FERRY_ATTR.failure]: 'CONNECTION_LOST' });
  }

  retried(accepted: Accepted, attempts: number): void {
    spanOf(accepted)?.addEvent(EVENT.retry, { [FERRY_ATTR.attempts]: attempts });
  }

  parked(accepted: Accepted, failureCode: string): void {
    spanOf(accepted)?.addEvent(EVENT.parked, { [FERRY_ATTR.failure]: failureCode });
  }

  settled(accepted: Accepted, outcome: Settlement, elapsedMs: number, failureCode?: string): void {
    const failure = outcome === 'confirmed' ? undefined : (failureCode ?? 'DEAD_LETTERED');
    const instruments = this.meters.current();
    if (instruments !== null) {
      const { message } = accepted;
      const template = this.templates.of(message.exchange, message.routingKey);
      const attributes =
        failure === undefined
          ? template.metricAttributes
          : { ...template.metricAttributes, [ATTR.errorType]: failure };
      this.sent.add(instruments.sent, attributes);
      instruments.duration.record(elapsedMs / 1000, attributes);
    }
    if (failure !== undefined)
      spanOf(accepted)?.addEvent(EVENT.deadLettered, { [FERRY_ATTR.failure]: failure });
    this.end(accepted, failure ?? null, outcome);
  }

  closed(unsettled: Iterable<Accepted>): void {
    for (const accepted of unsettled) {
      const span = spanOf(accepted);
      if (span === undefined) continue;
      accepted.traced = undefined;
      span.addEvent(EVENT.closed);
      span.end();
    }
  }

  /** Ends a message's span: as an error with `failure`, else as a success. */
  private end(accepted: Accepted, failure: string | null, outcome: Settlement | null): void {
    const span = spanOf(accepted);
    if (span === undefined) return;
    accepted.traced = undefined;
    if (outcome !== null) span.setAttribute(FERRY_ATTR.outcome, outcome);
    if (failure !== null) {
      span.setAttribute(ATTR.errorType, failure);
      span.setStatus({ code: this.dependencies.api.SpanStatusCode.ERROR, message: failure });
    }
    span.end();
  }
}

/** The open span of a message: only this module writes `traced`, and only spans. */
function spanOf(accepted: Accepted): Span | undefined {
  return accepted.traced as Span | undefined;
}

/** A message's own span attributes, on top of its destination's: its id, size and correlation id. */
function setMessageAttributes(span: Span, accepted: Accepted): void {
  span.setAttribute(ATTR.messageId, accepted.messageId);
  span.setAttribute(ATTR.bodySize, accepted.bytes);
  const { correlationId } = accepted.message.properties;
  if (correlationId !== undefined) span.setAttribute(ATTR.conversationId, correlationId);
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
