/**
 * Dependencies most producers never use, loaded on first use: a process that never subscribes to
 * `state$`/`events$` or creates Prometheus metrics does not pay for rxjs (≈7 MB of memory) or
 * prom-client (≈4 MB). Both are CommonJS, so a synchronous `require` loads the same module an
 * `import` would. prom-client, better-sqlite3 and ioredis are optional peer dependencies, installed
 * only by who uses metrics, the sqlite journal or the Redis journal: without them the error names the
 * package to install.
 *
 * @internal
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** rxjs, loaded on the first call. */
export function rxjs(): typeof import('rxjs') {
  return load('rxjs') as typeof import('rxjs');
}

/** The error for an optional package that is not installed: it names the package and who needs it. */
export function missingPackage(name: string, neededBy: string, cause: unknown): Error {
  return new Error(`${neededBy} needs the package ${name}, which is not installed: npm install ${name}`, {
    cause,
  });
}

/** `load()` of an optional package, rejecting with {@link missingPackage} when it is not installed. */
export function importOptional<T>(name: string, neededBy: string, load: () => Promise<T>): Promise<T> {
  return load().catch((error: unknown) => {
    throw missingPackage(name, neededBy, error);
  });
}

/** prom-client, loaded on the first call. */
export function promClient(): typeof import('prom-client') {
  try {
    return load('prom-client') as typeof import('prom-client');
  } catch (error) {
    throw missingPackage('prom-client', 'ferry/metrics', error);
  }
}
