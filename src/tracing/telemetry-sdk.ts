/**
 * `ferry serve`'s OpenTelemetry SDK: started only when the standard variables ask for an exporter
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_TRACES_EXPORTER`), and
 * only then loaded. The SDK reads every other `OTEL_*` variable itself (protocol, headers, sampler,
 * propagators, resource attributes); the service's name is `ferry` unless `OTEL_SERVICE_NAME` says
 * otherwise.
 *
 * @internal
 */

/** A started SDK. */
export interface Telemetry {
  /** Exports what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** The variables that turn the SDK on. */
const TRIGGERS = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_TRACES_EXPORTER',
] as const;

/** Whether `env` asks for telemetry to be exported. */
export function telemetryRequested(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return TRIGGERS.some((name) => {
    const value = env[name]?.trim();
    return value !== undefined && value !== '' && value !== 'none';
  });
}

/**
 * Starts the OpenTelemetry Node SDK when `env` asks for it (the SDK itself reads `process.env`);
 * `null` when it does not.
 *
 * @throws Error when telemetry is asked for but `@opentelemetry/sdk-node` is not installed.
 */
export async function startTelemetry(
  env: Readonly<Record<string, string | undefined>>,
): Promise<Telemetry | null> {
  if (!telemetryRequested(env)) return null;
  let sdk: typeof import('@opentelemetry/sdk-node');
  try {
    sdk = await import('@opentelemetry/sdk-node');
  } catch (error) {
    throw new Error(
      `OTEL_* variables ask for telemetry, but @opentelemetry/sdk-node (an optional dependency) could not be loaded: ${(error as Error).message}`,
    );
  }
  const started = new sdk.NodeSDK({ serviceName: env.OTEL_SERVICE_NAME ?? 'ferry' });
  started.start();
  return { shutdown: () => started.shutdown() };
}
