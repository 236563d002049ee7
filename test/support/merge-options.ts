import type { ProducerOptions } from '../../src/producer/producer-options.js';

/**
 * Producer options laid over each other group by group: a later `connection` adds to an earlier one
 * instead of replacing it, as a spread of grouped options would (`{ ...base, connection: { url } }`
 * drops `base.connection.healthCheckExchange`). Fields inside a group are replaced whole.
 */
export function mergeOptions(...parts: readonly ProducerOptions[]): ProducerOptions {
  let merged: ProducerOptions = {};
  for (const b of parts) {
    const a = merged;
    merged = {
      ...a,
      ...b,
      connection: { ...a.connection, ...b.connection },
      retry: { ...a.retry, ...b.retry },
      breaker: { ...a.breaker, ...b.breaker },
      buffer: { ...a.buffer, ...b.buffer },
      publish: { ...a.publish, ...b.publish },
      topology: { ...a.topology, ...b.topology },
    };
  }
  return merged;
}
