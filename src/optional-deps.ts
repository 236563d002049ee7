/**
 * Dependencies most producers never use, loaded on first use: a process that never subscribes to
 * `state$`/`events$` or creates Prometheus metrics does not pay for rxjs (≈7 MB of memory) or
 * prom-client (≈4 MB). Both are CommonJS, so a synchronous `require` loads the same module an
 * `import` would.
 *
 * @internal
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** rxjs, loaded on the first call. */
export function rxjs(): typeof import('rxjs') {
  return load('rxjs') as typeof import('rxjs');
}

/** prom-client, loaded on the first call. */
export function promClient(): typeof import('prom-client') {
  return load('prom-client') as typeof import('prom-client');
}
