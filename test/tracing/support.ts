/**
 * An OpenTelemetry set-up for one test file: a tracer provider exporting to memory, the W3C trace
 * context and baggage propagators, and an AsyncLocalStorage context manager, registered globally for
 * the file (each test file runs in its own worker) and emptied before each test (producers of the last
 * test end their spans as they close, after it).
 */
import { context, propagation, type SpanContext, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { beforeEach } from 'vitest';

/** The finished spans of the current test. */
export const exporter = new InMemorySpanExporter();

/** Registers the globals; call once at the top of a test file. */
export function registerTracing(): void {
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  beforeEach(() => exporter.reset());
}

/** The one finished span of `messageId`; fails when there is none or more than one. */
export function spanOf(messageId: string): ReadableSpan {
  const spans = exporter
    .getFinishedSpans()
    .filter((span) => span.attributes['messaging.message.id'] === messageId);
  if (spans.length !== 1) throw new Error(`expected one span of ${messageId}, found ${spans.length}`);
  return spans[0] as ReadableSpan;
}

/** The W3C `traceparent` of a span context, sampled. */
export function traceparentOf(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-0${spanContext.traceFlags}`;
}

/** The names of a span's events, in order. */
export function eventNames(span: ReadableSpan): string[] {
  return span.events.map((event) => event.name);
}
