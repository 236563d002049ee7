/**
 * `@opentelemetry/api`, an optional peer dependency: loaded with a synchronous `require` (it is
 * CommonJS, and a producer is created synchronously) the first time a producer is built, and never
 * when it is not installed. The API holds its registrations in globals shared by every copy of it, so
 * the copy found here sees the tracer and meter providers the application registered with its own.
 *
 * @internal
 */
import { createRequire } from 'node:module';

/** The OpenTelemetry API module. */
export type OtelApi = typeof import('@opentelemetry/api');

const load = createRequire(import.meta.url);
let loaded: OtelApi | null | undefined;

/** The API, or `null` when it is not installed; looked up once per process. */
export function otelApi(): OtelApi | null {
  if (loaded === undefined) {
    try {
      loaded = load('@opentelemetry/api') as OtelApi;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw error;
      loaded = null;
    }
  }
  return loaded;
}
