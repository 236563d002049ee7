/**
 * Records the process's unhandled rejections during each test of the file that calls it, for tests
 * that prove a receipt nobody awaits never becomes one.
 */
import { afterEach, beforeEach } from 'vitest';

/** The rejections reported during the current test; emptied before each test. */
export function recordUnhandledRejections(): unknown[] {
  const unhandled: unknown[] = [];
  const record = (reason: unknown): void => {
    unhandled.push(reason);
  };
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', record);
  });
  afterEach(() => {
    process.off('unhandledRejection', record);
  });
  return unhandled;
}

/** Node reports unhandled rejections once the microtask queue is drained; two immediates pass that. */
export const rejectionsReported = (): Promise<void> =>
  new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
