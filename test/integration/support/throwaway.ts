/**
 * One throwaway RabbitMQ node per test file, for tests that break the broker on purpose.
 */
import { afterAll, beforeAll } from 'vitest';
import {
  startThrowawayBroker,
  type ThrowawayBroker,
  type ThrowawayBrokerOptions,
} from '../../support/throwaway-broker.js';

/** Node start-up takes 7–25 s here, longer when several test files start nodes at once. */
const START_TIMEOUT_MS = 120_000;

/**
 * Starts a node before the file's tests and stops it after them; read `current()` inside tests.
 * `options` may be a function, for settings (certificates) that are made in an earlier `beforeAll`.
 */
export function useThrowawayBroker(options: ThrowawayBrokerOptions | (() => ThrowawayBrokerOptions)): {
  current(): ThrowawayBroker;
} {
  let broker: ThrowawayBroker | undefined;
  beforeAll(async () => {
    broker = await startThrowawayBroker(typeof options === 'function' ? options() : options);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await broker?.stop();
  }, START_TIMEOUT_MS);
  return {
    current: () => {
      if (broker === undefined) throw new Error('the throwaway broker did not start');
      return broker;
    },
  };
}
