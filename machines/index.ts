/**
 * ferry's state machines and their pure helpers: logic as data, effects named and provided by the
 * runtime. Import them to run ferry's actors in your own XState system or to generate tests from them.
 */
export * from './backoff.js';
export * from './breaker.machine.js';
export * from './connection.machine.js';
export * from './failure.js';
export * from './message.machine.js';
export * from './phases.js';
export * from './random.js';
export * from './supervisor.machine.js';
