/**
 * Inputs, failures, routes and the event catalogue shared by the connection machine's model and
 * behaviour tests.
 */
import {
  type ConnectionSettings,
  connectionMachine,
  drawRandom,
  seedRandom,
} from '../../../machines/index.js';
import {
  createHarness,
  doneEvent,
  errorEvent,
  ferryModels,
  type HarnessOptions,
  healthCheckDue,
  type MachineHarness,
  type ModelEvent,
  sampleFailures,
} from '../../../src/testing/index.js';

type ConnectionMachine = typeof connectionMachine;
type ConnectionHarness = MachineHarness<ConnectionMachine>;
type Event = ModelEvent<ConnectionMachine>;

/** The ready-made model's input: a small attempt budget keeps the model graph small. */
export const input = ferryModels.connection.input;

export const { refused, accessRefused, reset } = sampleFailures;

export const open = { type: 'connection.open' } as const satisfies Event;
export const close = { type: 'connection.close' } as const satisfies Event;
export const connected = doneEvent('connect', { endpoint: 'amqp://127.0.0.1:5672' });
export const blocked = { type: 'connection.blocked', reason: 'low on memory' } as const satisfies Event;
export { healthCheckDue };

/** Every event the connection machine reacts to, internal ones included, with representative payloads. */
export const connectionEvents: readonly Event[] = ferryModels.connection.events();

/** Event sequences from `idle` to each state the machine rests in. */
export const routes = {
  idle: [],
  connecting: [open],
  'connected.flowing': [open, connected],
  'connected.checking': [open, connected, healthCheckDue],
  'connected.blocked': [open, connected, blocked],
  reconnecting: [open, errorEvent('connect', refused)],
  failed: [open, errorEvent('connect', accessRefused)],
  closing: [open, close],
} satisfies Record<string, readonly Event[]>;

/**
 * A harness with every actor faked, on the test input with `settings` merged in.
 *
 * @param actors - implementations to use instead of fakes, as in {@link HarnessOptions.actors}.
 */
export function connectionHarness(
  settings: Partial<ConnectionSettings> = {},
  actors?: HarnessOptions<ConnectionMachine>['actors'],
): ConnectionHarness {
  return createHarness(connectionMachine, {
    input: { ...input, settings: { ...input.settings, ...settings } },
    ...(actors && { actors }),
  });
}

/** Applies events in order. */
export async function drive(harness: ConnectionHarness, events: readonly Event[]): Promise<void> {
  for (const event of events) await harness.apply(event);
}

/** The random values the machine draws from `seed`, in order: what its jitter must be computed from. */
export function draws(seed: number): () => number {
  let state = seedRandom(seed);
  return () => {
    const draw = drawRandom(state);
    state = draw.next;
    return draw.value;
  };
}

/** Start times of the invocations of `src` (fake ones only). */
export function startsOf(harness: ConnectionHarness, src: string): number[] {
  return harness.invocations.filter((invocation) => invocation.src === src).map((i) => i.startedAt);
}

/** Differences between consecutive numbers. */
export function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((time, index) => time - times[index]!);
}
