/**
 * The circuit breaker: `closed` counts failures, `open` refuses sending for a cooldown, `halfOpen` lets
 * one probe through and closes on its success or opens again on its failure.
 *
 * Two trip rules, either of which opens it: consecutive failures reaching a threshold (the
 * default, and what the shipped alert rules expect), and, optionally, a failure rate over a sliding window with a minimum volume. Events
 * carry their time (`at`, ms) so the window is a pure function of the journaled events.
 *
 * The breaker gates sending, not accepting: while it is open, accepted messages wait.
 */
import { assign, setup } from 'xstate';
import type { Failure } from './failure.js';

/** The optional failure-rate rule. */
export interface FailureRateSettings {
  /** Length of the sliding window, ms. */
  readonly windowMs: number;
  /** The window is kept as this many buckets; more buckets slide more smoothly. */
  readonly buckets: number;
  /** No trip on rate below this many outcomes in the window. */
  readonly minimumVolume: number;
  /** Trip when failures / outcomes in the window reach this fraction. */
  readonly threshold: number;
}

/** Tunables of the breaker. */
export interface BreakerSettings {
  /** `ML_CIRCUIT_BREAKER_THRESHOLD`: consecutive failures that open the breaker. */
  readonly failureThreshold: number;
  /** `ML_CIRCUIT_BREAKER_COOLDOWN`: how long the breaker stays open before probing, ms. */
  readonly cooldownMs: number;
  /** The failure-rate rule, or `null` for consecutive failures only. */
  readonly failureRate: FailureRateSettings | null;
}

/**
 * The default breaker: opens after 10 consecutive failures, probes after a 30 s cooldown, no rate rule
 * (a sick broker is told from a few bad messages by the run of failures, not their share).
 */
export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = {
  failureThreshold: 10,
  cooldownMs: 30_000,
  failureRate: null,
};

/** One bucket of the sliding window. */
export interface WindowBucket {
  /** `floor(at / bucketMs)`: which slice of time this bucket counts. */
  readonly slot: number;
  readonly successes: number;
  readonly failures: number;
}

/** Context of the breaker. */
export interface BreakerContext {
  readonly settings: BreakerSettings;
  readonly consecutiveFailures: number;
  /** Buckets of the failure-rate window, oldest first; empty when the rule is off. */
  readonly window: readonly WindowBucket[];
  /** Whether the half-open probe has been let through. */
  readonly probeTaken: boolean;
  /** How many times the breaker opened. */
  readonly trips: number;
  readonly lastFailure: Failure | null;
}

/** Input of the breaker machine. */
export interface BreakerInput {
  readonly settings?: Partial<BreakerSettings>;
}

/** Events the breaker accepts. `count` lets the runtime report many outcomes in one event. */
export type BreakerEvent =
  | { readonly type: 'breaker.success'; readonly at: number; readonly count?: number }
  | {
      readonly type: 'breaker.failure';
      readonly at: number;
      readonly failure: Failure;
      readonly count?: number;
    }
  | { readonly type: 'breaker.probe' }
  | { readonly type: 'breaker.reset' };

type Outcome = Extract<BreakerEvent, { at: number }>;

/** Adds an outcome to the window, dropping buckets that slid out of it. */
function recordInWindow(context: BreakerContext, event: Outcome): readonly WindowBucket[] {
  const rate = context.settings.failureRate;
  if (rate === null) return context.window;
  const bucketMs = rate.windowMs / rate.buckets;
  const slot = Math.floor(event.at / bucketMs);
  const count = event.count ?? 1;
  const kept = context.window.filter((bucket) => bucket.slot > slot - rate.buckets);
  const last = kept.at(-1);
  const isFailure = event.type === 'breaker.failure';
  if (last !== undefined && last.slot === slot) {
    const updated: WindowBucket = {
      slot,
      successes: last.successes + (isFailure ? 0 : count),
      failures: last.failures + (isFailure ? count : 0),
    };
    return [...kept.slice(0, -1), updated];
  }
  return [...kept, { slot, successes: isFailure ? 0 : count, failures: isFailure ? count : 0 }];
}

/** Whether the window, after this outcome, trips the rate rule. */
function rateTrips(context: BreakerContext, event: Outcome): boolean {
  const rate = context.settings.failureRate;
  if (rate === null) return false;
  let successes = 0;
  let failures = 0;
  for (const bucket of recordInWindow(context, event)) {
    successes += bucket.successes;
    failures += bucket.failures;
  }
  const volume = successes + failures;
  return volume >= rate.minimumVolume && failures / volume >= rate.threshold;
}

/** The circuit breaker machine. */
export const breakerMachine = setup({
  types: {
    input: {} as BreakerInput,
    context: {} as BreakerContext,
    events: {} as BreakerEvent,
  },
  actions: {
    countSuccess: assign(({ context, event }) => ({
      consecutiveFailures: 0,
      window: event.type === 'breaker.success' ? recordInWindow(context, event) : context.window,
    })),
    countFailure: assign(({ context, event }) =>
      event.type === 'breaker.failure'
        ? {
            consecutiveFailures: context.consecutiveFailures + (event.count ?? 1),
            window: recordInWindow(context, event),
            lastFailure: event.failure,
          }
        : {},
    ),
    recordTrip: assign(({ context }) => ({ trips: context.trips + 1, probeTaken: false })),
    takeProbe: assign({ probeTaken: true }),
    resetCounts: assign({ consecutiveFailures: 0, window: [], probeTaken: false }),
  },
  guards: {
    tripsOnFailure: ({ context, event }) =>
      event.type === 'breaker.failure' &&
      (context.consecutiveFailures + (event.count ?? 1) >= context.settings.failureThreshold ||
        rateTrips(context, event)),
    probeAvailable: ({ context }) => !context.probeTaken,
  },
  delays: {
    cooldown: ({ context }) => context.settings.cooldownMs,
  },
}).createMachine({
  id: 'breaker',
  context: ({ input }) => ({
    settings: { ...DEFAULT_BREAKER_SETTINGS, ...input.settings },
    consecutiveFailures: 0,
    window: [],
    probeTaken: false,
    trips: 0,
    lastFailure: null,
  }),
  initial: 'closed',
  states: {
    closed: {
      tags: ['canSend'],
      on: {
        'breaker.success': { actions: 'countSuccess' },
        'breaker.reset': { actions: 'resetCounts' },
        'breaker.failure': [
          { guard: 'tripsOnFailure', target: 'open', actions: ['countFailure', 'recordTrip'] },
          { actions: 'countFailure' },
        ],
      },
    },
    open: {
      tags: ['open'],
      after: { cooldown: 'halfOpen' },
      on: { 'breaker.reset': { target: 'closed', actions: 'resetCounts' } },
    },
    halfOpen: {
      tags: ['probing'],
      on: {
        'breaker.probe': { guard: 'probeAvailable', actions: 'takeProbe' },
        'breaker.success': { target: 'closed', actions: 'resetCounts' },
        'breaker.failure': { target: 'open', actions: ['countFailure', 'recordTrip'] },
        'breaker.reset': { target: 'closed', actions: 'resetCounts' },
      },
    },
  },
});
