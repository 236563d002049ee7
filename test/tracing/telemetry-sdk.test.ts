/** Which `OTEL_*` variables start `ferry serve`'s OpenTelemetry SDK. */
import { expect, it } from 'vitest';
import { startTelemetry, telemetryRequested } from '../../src/tracing/telemetry-sdk.js';

it('starts for an OTLP endpoint or a traces exporter, not for none or when the SDK is disabled', () => {
  expect(telemetryRequested({})).toBe(false);
  expect(telemetryRequested({ OTEL_SERVICE_NAME: 'x' })).toBe(false);
  expect(telemetryRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
  expect(telemetryRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toBe(
    true,
  );
  expect(telemetryRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
  expect(telemetryRequested({ OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  expect(telemetryRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBe(false);
  expect(
    telemetryRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'TRUE' }),
  ).toBe(false);
});

it('loads nothing when not asked', async () => {
  await expect(startTelemetry({})).resolves.toBeNull();
});
