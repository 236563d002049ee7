/**
 * The tracer provider is looked up once per burst of calls (until the next microtask), not once per
 * message: a relay adopts each claimed row on its own. A provider registered meanwhile is seen from
 * the next burst on.
 */
import * as api from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, expect, it } from 'vitest';
import type { OtelApi } from '../../src/tracing/otel-api.js';
import { TracerSource } from '../../src/tracing/providers.js';

afterEach(() => api.trace.disable());

/** The real API, with its global tracer-provider lookups counted. */
function countingApi(): { readonly otel: OtelApi; lookups(): number } {
  let lookups = 0;
  const trace = Object.create(api.trace, {
    getTracerProvider: {
      value: () => {
        lookups += 1;
        return api.trace.getTracerProvider();
      },
    },
  }) as typeof api.trace;
  return { otel: { ...api, trace } as OtelApi, lookups: () => lookups };
}

it('looks the tracer provider up once per burst, and sees one registered since from the next burst', async () => {
  const { otel, lookups } = countingApi();
  const source = new TracerSource(otel);
  const burst = Array.from({ length: 100 }, () => source.current());
  expect({ tracers: new Set(burst), lookups: lookups() }).toEqual({ tracers: new Set([null]), lookups: 1 });

  api.trace.setGlobalTracerProvider(new BasicTracerProvider());
  expect(source.current()).toBeNull();
  await Promise.resolve();
  expect(source.current()).not.toBeNull();
  expect(lookups()).toBe(2);
});
