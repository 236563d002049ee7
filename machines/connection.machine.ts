/**
 * The connection lifecycle: connecting with a timeout, connected (flowing, health-checking or blocked),
 * reconnecting with backoff, `failed` once the attempt budget is spent (still retrying, at the max delay),
 * and a graceful close.
 *
 * Effects are named and provided by the runtime: `connect` opens the connection, a confirm channel and
 * the topology; `watch` turns the live connection's `close`/`error`/`blocked`/`unblocked` into events;
 * `healthCheck` asks the broker about the exchange; `disconnect` closes gracefully; `dropConnection`
 * destroys whatever is left of a connection that is being given up on.
 */
import { assign, fromCallback, fromPromise, type StateValue, setup } from 'xstate';
import { type BackoffPolicy, backoffDelay, DEFAULT_RECONNECT_BACKOFF, exponentialDelay } from './backoff.js';
import { type Failure, toFailure } from './failure.js';
import type { ConnectionPhase } from './phases.js';
import { drawRandom, type RandomState, seedRandom } from './random.js';

/** Tunables of the connection machine; every one has a default (`ML_*`/`RABBITMQ_*` env names in the service). */
export interface ConnectionSettings {
  readonly reconnect: BackoffPolicy;
  /** Attempts before the machine reports `failed` (it keeps retrying at the max delay). */
  readonly maxReconnectAttempts: number;
  /** `RABBITMQ_CONNECTION_TIMEOUT`: how long one attempt may take, topology included. */
  readonly connectTimeoutMs: number;
  /** How often a connected, unblocked connection checks the exchange. */
  readonly healthCheckIntervalMs: number;
  /** A health check that takes longer than this counts as failed (a frozen broker answers nothing). */
  readonly healthCheckTimeoutMs: number;
  /** How long a graceful disconnect may take before the socket is dropped. */
  readonly disconnectTimeoutMs: number;
}

/** The defaults: 500 ms → 32 s with 30 % jitter, 10 attempts, 10 s connect timeout, 30 s health check. */
export const DEFAULT_CONNECTION_SETTINGS: ConnectionSettings = {
  reconnect: DEFAULT_RECONNECT_BACKOFF,
  maxReconnectAttempts: 10,
  connectTimeoutMs: 10_000,
  healthCheckIntervalMs: 30_000,
  healthCheckTimeoutMs: 5_000,
  disconnectTimeoutMs: 5_000,
};

/** What `connect` resolves with: where it connected, without credentials. */
export interface ConnectedEndpoint {
  readonly endpoint: string;
}

/** Input of the connection machine. */
export interface ConnectionInput {
  readonly settings?: Partial<ConnectionSettings>;
  /** Seed of the jitter source; journal it to replay the same delays. */
  readonly seed: number;
}

/** Context of the connection machine: plain data, safe to journal and compare. */
export interface ConnectionContext {
  readonly settings: ConnectionSettings;
  readonly random: RandomState;
  /** Failed attempts since the last successful connect. */
  readonly attempts: number;
  /** The delay chosen for the next attempt, drawn when the previous one failed. */
  readonly nextDelayMs: number;
  /** How much of `nextDelayMs` the jitter drew: the delay minus the attempt's exponential delay. */
  readonly nextJitterMs: number;
  readonly lastFailure: Failure | null;
  readonly endpoint: string | null;
  readonly blockedReason: string | null;
  /** Successful connects so far; every one after the first is a reconnect. */
  readonly connects: number;
  readonly healthCheckFailures: number;
}

/** Events the connection machine accepts. */
export type ConnectionEvent =
  | { readonly type: 'connection.open' }
  | { readonly type: 'connection.close' }
  | { readonly type: 'connection.lost'; readonly failure: Failure }
  | { readonly type: 'connection.blocked'; readonly reason: string }
  | { readonly type: 'connection.unblocked' };

/** The failure carried by an actor error event or a `connection.lost` event; timers carry none. */
function failureOf(event: { readonly type: string }): Failure | null {
  if ('failure' in event) return event.failure as Failure;
  if ('error' in event) return toFailure(event.error);
  return null;
}

const notProvided = (name: string) => () => Promise.reject(new Error(`${name} is provided by the runtime`));

type RecordAction = 'recordFailure' | { readonly type: 'recordTimeout'; readonly params: TimeoutParams };
/** Parameters of the `recordTimeout` action: the failure a timer stands for. */
export interface TimeoutParams {
  readonly code: string;
  readonly message: string;
}

/** Failure transitions share one shape: permanent or over budget → `failed`, otherwise → `reconnecting`. */
function failWith(record: 'recordFailure', ...more: readonly 'countHealthCheckFailure'[]) {
  const actions = [record, 'planReconnect', ...more] as const;
  return [
    { guard: 'failureIsPermanent', target: '#connection.failed', actions },
    ...timeOut(record, ...more),
  ] as const;
}

/** A timer's failure is never permanent: over budget → `failed`, otherwise → `reconnecting`. */
function timeOut(record: RecordAction, ...more: readonly 'countHealthCheckFailure'[]) {
  const actions = [record, 'planReconnect', ...more] as const;
  return [
    { guard: 'attemptsExhausted', target: '#connection.failed', actions },
    { target: '#connection.reconnecting', actions },
  ] as const;
}

/** The connection lifecycle machine. */
export const connectionMachine = setup({
  types: {
    input: {} as ConnectionInput,
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
  },
  actors: {
    connect: fromPromise<ConnectedEndpoint, { readonly attempt: number }>(notProvided('connect')),
    watch: fromCallback<ConnectionEvent>(() => undefined),
    healthCheck: fromPromise<void>(notProvided('healthCheck')),
    disconnect: fromPromise<void>(notProvided('disconnect')),
  },
  actions: {
    recordFailure: assign(({ context, event }) => ({
      attempts: context.attempts + 1,
      lastFailure: failureOf(event) ?? toFailure(event),
      endpoint: null,
    })),
    recordTimeout: assign(({ context }, params: TimeoutParams) => ({
      attempts: context.attempts + 1,
      lastFailure: { code: params.code, message: params.message, permanent: false },
      endpoint: null,
    })),
    planReconnect: assign(({ context }) => {
      const { settings } = context;
      const overBudget =
        context.lastFailure?.permanent === true || context.attempts >= settings.maxReconnectAttempts;
      const attempt = overBudget ? Number.POSITIVE_INFINITY : context.attempts;
      const draw = drawRandom(context.random);
      const delay = backoffDelay(settings.reconnect, attempt, draw.value, context.nextDelayMs);
      return {
        random: draw.next,
        nextDelayMs: delay,
        nextJitterMs: delay - exponentialDelay(settings.reconnect, attempt),
      };
    }),
    recordConnected: assign(({ context }, params: { endpoint: string }) => ({
      attempts: 0,
      endpoint: params.endpoint,
      connects: context.connects + 1,
      nextDelayMs: context.settings.reconnect.initialDelayMs,
      nextJitterMs: 0,
    })),
    recordBlocked: assign((_, params: { reason: string }) => ({ blockedReason: params.reason })),
    clearBlocked: assign({ blockedReason: null }),
    countHealthCheckFailure: assign(({ context }) => ({
      healthCheckFailures: context.healthCheckFailures + 1,
    })),
    dropConnection: () => undefined,
  },
  guards: {
    failureIsPermanent: ({ event }) => failureOf(event)?.permanent === true,
    attemptsExhausted: ({ context }) => context.attempts + 1 >= context.settings.maxReconnectAttempts,
  },
  delays: {
    connectTimeout: ({ context }) => context.settings.connectTimeoutMs,
    reconnectDelay: ({ context }) => context.nextDelayMs,
    healthCheckInterval: ({ context }) => context.settings.healthCheckIntervalMs,
    healthCheckTimeout: ({ context }) => context.settings.healthCheckTimeoutMs,
    disconnectTimeout: ({ context }) => context.settings.disconnectTimeoutMs,
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => {
    const settings = { ...DEFAULT_CONNECTION_SETTINGS, ...input.settings };
    return {
      settings,
      random: seedRandom(input.seed),
      attempts: 0,
      nextDelayMs: settings.reconnect.initialDelayMs,
      nextJitterMs: 0,
      lastFailure: null,
      endpoint: null,
      blockedReason: null,
      connects: 0,
      healthCheckFailures: 0,
    };
  },
  initial: 'idle',
  states: {
    idle: {
      on: {
        'connection.open': 'connecting',
        'connection.close': 'closed',
      },
    },
    connecting: {
      invoke: {
        id: 'connect',
        src: 'connect',
        input: ({ context }) => ({ attempt: context.attempts + 1 }),
        onDone: {
          target: 'connected',
          actions: { type: 'recordConnected', params: ({ event }) => ({ endpoint: event.output.endpoint }) },
        },
        onError: failWith('recordFailure'),
      },
      after: {
        connectTimeout: timeOut({
          type: 'recordTimeout',
          params: { code: 'CONNECT_TIMEOUT', message: 'connecting took longer than the timeout' },
        }),
      },
      on: { 'connection.close': 'closing' },
    },
    connected: {
      tags: ['healthy', 'connected'],
      exit: 'clearBlocked',
      invoke: { id: 'watch', src: 'watch' },
      initial: 'flowing',
      states: {
        flowing: {
          tags: ['canPublish'],
          after: { healthCheckInterval: 'checking' },
          on: {
            'connection.blocked': {
              target: 'blocked',
              actions: { type: 'recordBlocked', params: ({ event }) => ({ reason: event.reason }) },
            },
          },
        },
        checking: {
          tags: ['canPublish'],
          invoke: {
            id: 'healthCheck',
            src: 'healthCheck',
            onDone: 'flowing',
            onError: failWith('recordFailure', 'countHealthCheckFailure'),
          },
          after: {
            healthCheckTimeout: timeOut(
              {
                type: 'recordTimeout',
                params: {
                  code: 'HEALTH_CHECK_TIMEOUT',
                  message: 'the broker did not answer the health check in time',
                },
              },
              'countHealthCheckFailure',
            ),
          },
          on: {
            'connection.blocked': {
              target: 'blocked',
              actions: { type: 'recordBlocked', params: ({ event }) => ({ reason: event.reason }) },
            },
          },
        },
        blocked: {
          tags: ['blocked'],
          on: {
            'connection.unblocked': { target: 'flowing', actions: 'clearBlocked' },
            'connection.blocked': {
              actions: { type: 'recordBlocked', params: ({ event }) => ({ reason: event.reason }) },
            },
          },
        },
      },
      on: {
        'connection.lost': failWith('recordFailure'),
        'connection.close': 'closing',
      },
    },
    reconnecting: {
      entry: 'dropConnection',
      after: { reconnectDelay: 'connecting' },
      on: { 'connection.close': 'closed' },
    },
    failed: {
      tags: ['unhealthy'],
      entry: 'dropConnection',
      after: { reconnectDelay: 'connecting' },
      on: { 'connection.close': 'closed' },
    },
    closing: {
      invoke: { id: 'disconnect', src: 'disconnect', onDone: 'closed', onError: 'closed' },
      after: { disconnectTimeout: 'closed' },
      exit: 'dropConnection',
    },
    closed: { type: 'final' },
  },
});

export type { ConnectionPhase } from './phases.js';

/**
 * Reduces a connection snapshot to its phase. `blocked` is the one sub-state worth naming, and an
 * attempt made after the budget is spent or after a permanent failure still reads `failed`: health
 * must not flap back to `connecting` every time a failed connection retries.
 */
export function connectionPhaseOf(snapshot: {
  readonly value: StateValue;
  readonly context: Pick<ConnectionContext, 'attempts' | 'settings'> & {
    readonly lastFailure?: Failure | null;
  };
}): ConnectionPhase {
  const { value, context } = snapshot;
  if (typeof value !== 'string')
    return 'connected' in value && value.connected === 'blocked' ? 'blocked' : 'connected';
  const gaveUp =
    context.attempts >= context.settings.maxReconnectAttempts || context.lastFailure?.permanent === true;
  if (value === 'connecting' && gaveUp) return 'failed';
  return value as ConnectionPhase;
}

/** Whether messages may be written in this snapshot: connected, not blocked. */
export const CAN_PUBLISH_TAG = 'canPublish';
