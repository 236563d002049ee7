/**
 * Model-based testing for XState v5 machines built with `setup()`: generate paths from the production
 * machine itself, replay them against a live actor on a simulated clock with every invoked actor faked,
 * and demand that every state and transition was exercised. Runner-agnostic: failures are thrown
 * `Error`s with readable messages.
 *
 * @example
 * ```ts
 * import { CoverageTracker, doneEvent, errorEvent, modelPaths, replayPath, serializeWith, timerEvents }
 *   from 'ferry/testing';
 *
 * const input = { seed: 1, settings: { maxReconnectAttempts: 3 } };
 * const tracker = new CoverageTracker(connectionMachine);
 * const paths = modelPaths(connectionMachine, {
 *   input,
 *   events: [
 *     { type: 'connection.open' },
 *     doneEvent('connect', { endpoint: 'amqp://127.0.0.1' }),
 *     errorEvent('connect', { code: 'ECONNREFUSED', message: 'refused', permanent: false }),
 *     ...timerEvents(connectionMachine),
 *   ],
 *   serializeState: serializeWith((s) => Math.min(s.context.attempts, 3)),
 * });
 * for (const path of paths) {
 *   it(path.description, () => replayPath(connectionMachine, path, { input, inspect: tracker.inspect }));
 * }
 * it('covers the machine', () => tracker.assertComplete());
 * ```
 *
 * @packageDocumentation
 */
export { SimulatedClock } from 'xstate';
export * from '../../machines/index.js';
export {
  type CoverageCount,
  type CoverageReport,
  CoverageTracker,
  type MachineInventory,
  machineInventory,
} from './coverage.js';
export type { FakeInvocation } from './fake-actors.js';
export {
  type FerryModel,
  ferryModels,
  healthCheckDue,
  sampleFailures,
  supervisorStandIns,
} from './ferry-models.js';
export { createHarness, type ExecutedAction, type HarnessOptions, type MachineHarness } from './harness.js';
export {
  type AfterEvent,
  afterEvent,
  type DoneActorEvent,
  doneEvent,
  type ErrorActorEvent,
  errorEvent,
  type InitEvent,
  type ModelEvent,
  type SyntheticEvent,
  timerEvents,
} from './model-events.js';
export {
  type ModelPath,
  type ModelPathsOptions,
  type ModelStep,
  modelPaths,
  serializeWith,
} from './model-paths.js';
export { type ReplayOptions, replayPath } from './replay.js';
