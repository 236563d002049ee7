/**
 * `@opentelemetry/api` made impossible to `require` in the bench child, as if it were not installed:
 * ferry looks for it with one synchronous `require` when its first producer is built
 * (src/tracing/otel-api.ts) and, not finding it, loads nothing of OpenTelemetry and traces nothing.
 * With the package installed for the other rows, this is how one run shows ferry without it beside
 * ferry with it (no tracer provider) and amqplib. Only `require` is hidden, the one way ferry loads it;
 * test/tracing/api-absent.test.ts proves the same absence for `import` too, with a preloaded hook.
 */
import Module, { createRequire } from 'node:module';

const API = '@opentelemetry/api';

/** Node's resolver, `Module._resolveFilename`: not in Node's typings, being internal. */
type Resolve = (request: string, ...rest: unknown[]) => string;

/**
 * Hides the API from `require` for the rest of the process, then checks that ferry's own look-up sees
 * it absent: a run that still traced (the API loaded before the hiding) fails instead of mislabelling
 * its figures.
 */
export async function withoutOtelApi(): Promise<void> {
  const resolve: Resolve = Reflect.get(Module, '_resolveFilename');
  const hidden: Resolve = function resolveVisible(this: unknown, request, ...rest) {
    if (request === API || request.startsWith(`${API}/`)) {
      throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
    }
    return resolve.call(this, request, ...rest);
  };
  Reflect.set(Module, '_resolveFilename', hidden);
  const loaded = Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes(`/${API}/`));
  const { otelApi } = await import('../../src/tracing/otel-api.js');
  if (loaded || otelApi() !== null) throw new Error(`${API} was loaded before it could be hidden`);
}
