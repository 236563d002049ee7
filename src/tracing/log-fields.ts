/**
 * `trace_id` and `span_id` for a log line written inside a span (a request's, a publish's), as pino's
 * `mixin`: nothing when `@opentelemetry/api` is not installed or no span is active.
 *
 * @internal
 */
import { otelApi } from './otel-api.js';

/** The active span's ids, for a log line: a fresh object each time, as pino merges the line into it. */
export function traceLogFields(): Record<string, string> {
  const api = otelApi();
  if (api === null) return {};
  const spanContext = api.trace.getSpanContext(api.context.active());
  if (spanContext === undefined || !api.isSpanContextValid(spanContext)) return {};
  return {
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    trace_flags: `0${spanContext.traceFlags.toString(16)}`,
  };
}
