/**
 * A tracer provider whose spans go nowhere (a no-op span processor), and the W3C propagators: what
 * tracing costs ferry itself (spans, attributes, the context in the headers), without an exporter's.
 * The traced bench client and `bench/own-cpu.ts --traced` both register it, so their figures agree.
 */

/** Registers the provider and the propagators globally, for every copy of `@opentelemetry/api`. */
export async function registerNoopTracing(): Promise<void> {
  const { propagation, trace } = await import('@opentelemetry/api');
  const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } = await import(
    '@opentelemetry/core'
  );
  const { BasicTracerProvider, NoopSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] }));
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
}
