/**
 * A publish span's context as the headers the global propagator writes for it (`traceparent`,
 * `tracestate`, `baggage`, ...), as top-level text.
 *
 * The messages of one batch mostly share their parent context (the one active in the caller), and with
 * the W3C propagators (trace context and baggage, the SDK's default) the only headers that then differ
 * between them are the span's own: `traceparent`, made of its span context, and `tracestate`, its trace
 * state serialised; baggage is the parent's. So the first message of a batch goes through the
 * propagator, and when the propagator declares no fields but W3C's and what it wrote for that span is
 * exactly what the W3C format gives, the other messages with that parent get their span's headers
 * built here and the parent's copied: no context, no propagator call per message. Any other propagator,
 * and a message whose parent is its own (extracted from its headers), go through the propagator.
 *
 * @internal
 */
import type { Context, Span, SpanContext } from '@opentelemetry/api';
import type { OtelApi } from './otel-api.js';

/** The headers a span's context becomes. */
export type TraceHeaders = Record<string, unknown>;

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';
/** The fields of the W3C trace context and baggage propagators. */
const W3C_FIELDS: ReadonlySet<string> = new Set([TRACEPARENT, TRACESTATE, 'baggage']);

/**
 * `traceparent` of a span context, written as the W3C trace context propagator writes it. Joined
 * rather than a template literal: a template makes a tree of five cons strings, which the message
 * holds until its confirm and amqplib flattens into one more string when it writes the header; `join`
 * writes the one flat string at once.
 */
export function traceparentOf(spanContext: SpanContext): string {
  const flags = `0${Number(spanContext.traceFlags || 0).toString(16)}`;
  return ['00', spanContext.traceId, spanContext.spanId, flags].join('-');
}

/** How the headers of a span whose parent is the batch's shared one are written. */
type Mode = 'unchecked' | 'built' | 'propagator';

/**
 * Writes spans' contexts into headers, a batch at a time.
 *
 * @internal
 */
export class HeaderInjector {
  private shared: Context | null = null;
  private mode: Mode = 'propagator';
  /**
   * What the propagator wrote for the shared parent besides the span's own headers (its baggage);
   * `null` when it wrote nothing else, as without baggage.
   */
  private parentHeaders: TraceHeaders | null = null;

  constructor(private readonly api: OtelApi) {}

  /**
   * A batch begins whose messages mostly have `shared` as their parent. The propagator is looked at
   * again: the application may have registered another since the last batch.
   */
  startBatch(shared: Context): void {
    this.shared = shared;
    this.mode = this.api.propagation.fields().every((field) => W3C_FIELDS.has(field))
      ? 'unchecked'
      : 'propagator';
  }

  /** The headers of `span`, started with `parent`: a fresh object. */
  headersOf(parent: Context, span: Span): TraceHeaders {
    if (parent !== this.shared || this.mode === 'propagator') return this.propagated(parent, span);
    if (this.mode === 'built') {
      const spanContext = span.spanContext();
      // A literal of the one header rather than a spread of the parent's: the message holds this
      // object until its outcome, and a spread makes one with room for four properties (56 bytes
      // where this is 32), copied by each young-generation collection it lives through.
      const headers: TraceHeaders = { traceparent: traceparentOf(spanContext) };
      if (this.parentHeaders !== null) Object.assign(headers, this.parentHeaders);
      if (spanContext.traceState !== undefined) headers[TRACESTATE] = spanContext.traceState.serialize();
      return headers;
    }
    const headers = this.propagated(parent, span);
    this.mode = this.writesW3C(headers, span.spanContext()) ? 'built' : 'propagator';
    if (this.mode === 'built') {
      const parentHeaders: TraceHeaders = {};
      for (const key of Object.keys(headers)) {
        if (key !== TRACEPARENT && key !== TRACESTATE) parentHeaders[key] = headers[key];
      }
      this.parentHeaders = Object.keys(parentHeaders).length === 0 ? null : parentHeaders;
    }
    return headers;
  }

  private propagated(parent: Context, span: Span): TraceHeaders {
    const headers: TraceHeaders = {};
    this.api.propagation.inject(this.api.trace.setSpan(parent, span), headers);
    return headers;
  }

  /** Whether the span's own headers are exactly what the W3C format gives for its context. */
  private writesW3C(headers: TraceHeaders, spanContext: SpanContext): boolean {
    return (
      headers[TRACEPARENT] === traceparentOf(spanContext) &&
      headers[TRACESTATE] === spanContext.traceState?.serialize()
    );
  }
}
