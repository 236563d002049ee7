/**
 * `traceparentOf` (src/tracing/header-injector.ts) writes what the W3C trace context propagator writes
 * for a span context: the injector builds a batch's headers with it once the propagator's own output
 * for the batch's first message matched, so it must match for every trace flag value.
 */
import { ROOT_CONTEXT, type SpanContext, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { expect, it } from 'vitest';
import { traceparentOf } from '../../src/tracing/header-injector.js';

const propagator = new W3CTraceContextPropagator();

function propagated(spanContext: SpanContext): unknown {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), carrier, {
    set: (target, key, value) => {
      target[key] = value;
    },
  });
  return carrier.traceparent;
}

for (const traceFlags of [0, 1, 2, 3]) {
  it(`writes the propagator's traceparent for trace flags ${traceFlags}`, () => {
    const spanContext: SpanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags,
    };
    expect(traceparentOf(spanContext)).toBe(propagated(spanContext));
  });
}
