/**
 * The life of one retryable message: a message that left the healthy path (nacked, returned, timed out,
 * or on a channel that died) and now needs retries, a dead-letter hand-off, or, if even that fails, to
 * be parked and tried again slowly. Nothing here ever drops a message.
 *
 * ```
 * triage ─┬─ waiting (no usable channel or breaker open) ── publishing ── awaitingConfirm ── confirmed
 *         ├─ retryWait (backoff) ── waiting                          └─ failure ── triage
 *         └─ deadLettering ── deadLettered | parked ── (slow retry) ── deadLettering
 * ```
 *
 * While the broker blocks the connection (a resource alarm) it reads nothing, so no confirm can arrive
 * and none is late: a message awaiting its confirm holds its timeout until the block ends.
 *
 * The outcome is the final state's `output`, so the machine works as a spawned child and as a root actor.
 *
 * A message recovered from the journal starts with `resume`: the state its journaled events fold to.
 * Restored actors do not re-arm timers by themselves, so `resume` carries the time left on the retry or
 * parked timer it was waiting on, and triage goes straight back to that state.
 */
import { assign, fromPromise, not, setup } from 'xstate';
import { type BackoffPolicy, backoffDelay, DEFAULT_RETRY_BACKOFF } from './backoff.js';
import { FAILURE_CODES, type Failure, failureCountsAsAttempt, toFailure } from './failure.js';
import { drawRandom, type RandomState, seedRandom } from './random.js';

/** Tunables of a retryable message. */
export interface MessageSettings {
  /** `ML_MESSAGE_RETRY_BASE_DELAY` / `ML_MESSAGE_RETRY_MAX_DELAY`: 1 s → 10 s with jitter. */
  readonly retry: BackoffPolicy;
  /** `ML_MAX_MESSAGE_RETRIES`: attempts in all, the first one included. */
  readonly maxAttempts: number;
  /** How long a republished message may wait for its confirm; past it the outcome is unknown. */
  readonly confirmTimeoutMs: number;
  /** How often a parked message retries its dead-letter hand-off. */
  readonly parkedRetryDelayMs: number;
}

/**
 * The default retry policy: 3 attempts, 1 s → 10 s; a 5 s confirm timeout (the runtime's confirm
 * tracker owns that deadline when it provides the machine).
 */
export const DEFAULT_MESSAGE_SETTINGS: MessageSettings = {
  retry: DEFAULT_RETRY_BACKOFF,
  maxAttempts: 3,
  confirmTimeoutMs: 5_000,
  parkedRetryDelayMs: 60_000,
};

/** Input of a retryable message. */
export interface MessageInput {
  readonly messageId: string;
  /** The failure that took the message off the healthy path. */
  readonly failure: Failure;
  /** Attempts already counted, the failed one included (1 for a message fresh off the healthy path). */
  readonly attempts: number;
  /** Whether a usable channel and a closed breaker exist right now. */
  readonly gateOpen: boolean;
  /** Whether the broker is blocking the connection right now; not blocked when absent. */
  readonly blocked?: boolean;
  readonly seed: number;
  readonly settings?: Partial<MessageSettings>;
  /** Set for a message recovered from the journal. */
  readonly resume?: MessageResume;
}

/** The timed states a recovered message can resume in. */
export type ResumableState = 'retryWait' | 'parked';

/** A timer journaled before a restart: the state it belongs to and the time left until its deadline. */
export interface ResumeTimer {
  readonly state: ResumableState;
  /** 0 when the deadline passed while ferry was down. */
  readonly remainingMs: number;
}

/** Where a message recovered from the journal picks up. */
export interface MessageResume {
  /** The jitter generator state journaled last, so later delays are the ones the lost actor would draw. */
  readonly random: RandomState;
  /** The last planned retry delay (`decorrelated` jitter grows from it); the initial delay when absent. */
  readonly nextDelayMs?: number;
  readonly deadLetterFailures: number;
  /** The timer it was waiting on; `null` sends it through triage as a fresh failure would go. */
  readonly timer: ResumeTimer | null;
}

/** Context of a retryable message: plain data, journaled as the message's state. */
export interface MessageContext {
  readonly messageId: string;
  readonly settings: MessageSettings;
  readonly attempts: number;
  readonly lastFailure: Failure;
  readonly gateOpen: boolean;
  /** The broker is blocking the connection: no confirm can arrive, so the confirm timeout waits. */
  readonly blocked: boolean;
  readonly random: RandomState;
  readonly nextDelayMs: number;
  /** Failed dead-letter hand-offs; more than zero means the message has been parked. */
  readonly deadLetterFailures: number;
  /** Set when a final state is reached. */
  readonly outcome: MessageOutput['outcome'] | null;
  /** A journaled timer to finish instead of starting a fresh one; cleared when its state is left. */
  readonly resumeTimer: ResumeTimer | null;
}

/** How a retryable message ended. */
export interface MessageOutput {
  readonly messageId: string;
  readonly outcome: 'confirmed' | 'dead-lettered';
  readonly attempts: number;
  readonly lastFailure: Failure;
}

/** Events a retryable message accepts; the supervisor routes them by message id. */
export type MessageEvent =
  | { readonly type: 'gate.changed'; readonly open: boolean }
  | { readonly type: 'connection.blocked' }
  | { readonly type: 'connection.unblocked' }
  | { readonly type: 'confirm.ack' }
  | { readonly type: 'confirm.failed'; readonly failure: Failure };

/** What the runtime's `publish` and `deadLetter` actors receive. */
export interface MessageEffectInput {
  readonly messageId: string;
  readonly attempts: number;
  readonly lastFailure: Failure;
}

const effectInput = ({ context }: { context: MessageContext }): MessageEffectInput => ({
  messageId: context.messageId,
  attempts: context.attempts,
  lastFailure: context.lastFailure,
});

/**
 * How long the timer of `state` waits: what is left of a resumed timer, else the planned retry delay or
 * the parked delay. The runtime journals deadlines with it.
 */
export function timerDelayMs(context: MessageContext, state: ResumableState): number {
  if (context.resumeTimer?.state === state) return context.resumeTimer.remainingMs;
  return state === 'retryWait' ? context.nextDelayMs : context.settings.parkedRetryDelayMs;
}

/** Reads the failure from an actor error or a `confirm.failed` event. */
function failureOf(event: { readonly type: string }): Failure {
  if ('failure' in event) return event.failure as Failure;
  if ('error' in event) return toFailure(event.error);
  return toFailure(event);
}

/** The retryable-message machine. */
export const messageMachine = setup({
  types: {
    input: {} as MessageInput,
    context: {} as MessageContext,
    events: {} as MessageEvent,
    output: {} as MessageOutput,
  },
  actors: {
    /** Resolves once the message is handed to a channel; its confirm arrives as an event. */
    publish: fromPromiseNotProvided<void>('publish'),
    /** Resolves once the dead-letter exchange confirmed the message. */
    deadLetter: fromPromiseNotProvided<void>('deadLetter'),
  },
  actions: {
    recordFailure: assign(({ context, event }, params: { failure?: Failure } | undefined) => {
      const failure = params?.failure ?? failureOf(event);
      const counts = failureCountsAsAttempt(failure);
      return {
        lastFailure: failure,
        attempts: context.attempts + (counts ? 1 : 0),
        // A lost connection closes the gate whatever this actor last heard: republishing before the
        // supervisor's next `gate.changed` would only hit the dead channel again.
        gateOpen: counts ? context.gateOpen : false,
      };
    }),
    planRetry: assign(({ context }) => {
      // A resumed retry keeps the delay and generator state journaled before the restart.
      if (context.resumeTimer?.state === 'retryWait') return {};
      const draw = drawRandom(context.random);
      return {
        random: draw.next,
        nextDelayMs: backoffDelay(context.settings.retry, context.attempts, draw.value, context.nextDelayMs),
      };
    }),
    trackGate: assign(({ event }) => (event.type === 'gate.changed' ? { gateOpen: event.open } : {})),
    trackBlocked: assign(({ event }) => ({ blocked: event.type === 'connection.blocked' })),
    settle: assign((_, params: { outcome: MessageOutput['outcome'] }) => ({ outcome: params.outcome })),
    endResume: assign({ resumeTimer: null }),
    recordDeadLetterFailure: assign(({ context }) => ({
      deadLetterFailures: context.deadLetterFailures + 1,
    })),
    /** Runtime hook: journal a failed attempt (context holds the attempt count and failure). */
    journalFailure: () => undefined,
    /** Runtime hook: journal the retry timer just started (context holds the delay and generator state). */
    journalRetryScheduled: () => undefined,
    /** Runtime hook: journal that the message is parked after a failed dead-letter hand-off. */
    journalParked: () => undefined,
  },
  guards: {
    resumesRetry: ({ context }) => context.resumeTimer?.state === 'retryWait',
    resumesParked: ({ context }) => context.resumeTimer?.state === 'parked',
    gateOpen: ({ context }) => context.gateOpen,
    connectionBlocked: ({ context }) => context.blocked,
    waitsForConnection: ({ context }) => !failureCountsAsAttempt(context.lastFailure),
    failedPermanently: ({ context }) => context.lastFailure.permanent,
    attemptsExhausted: ({ context }) => context.attempts >= context.settings.maxAttempts,
  },
  delays: {
    retryDelay: ({ context }) => timerDelayMs(context, 'retryWait'),
    confirmTimeout: ({ context }) => context.settings.confirmTimeoutMs,
    parkedRetryDelay: ({ context }) => timerDelayMs(context, 'parked'),
  },
}).createMachine({
  id: 'message',
  context: ({ input }) => {
    const settings = { ...DEFAULT_MESSAGE_SETTINGS, ...input.settings };
    return {
      messageId: input.messageId,
      settings,
      attempts: input.attempts,
      lastFailure: input.failure,
      gateOpen: input.gateOpen,
      blocked: input.blocked ?? false,
      random: input.resume?.random ?? seedRandom(input.seed),
      nextDelayMs: input.resume?.nextDelayMs ?? settings.retry.initialDelayMs,
      deadLetterFailures: input.resume?.deadLetterFailures ?? 0,
      outcome: null,
      resumeTimer: input.resume?.timer ?? null,
    };
  },
  on: {
    'gate.changed': { actions: 'trackGate' },
    'connection.blocked': { actions: 'trackBlocked' },
    'connection.unblocked': { actions: 'trackBlocked' },
  },
  initial: 'triage',
  states: {
    /** Decides what a failure means: wait for a connection, retry after a delay, or give up. */
    triage: {
      entry: 'journalFailure',
      always: [
        { guard: 'resumesParked', target: 'parked' },
        { guard: 'resumesRetry', target: 'retryWait' },
        { guard: 'waitsForConnection', target: 'waiting' },
        { guard: 'failedPermanently', target: 'deadLettering' },
        { guard: 'attemptsExhausted', target: 'deadLettering' },
        { target: 'retryWait' },
      ],
    },
    retryWait: {
      tags: ['retrying'],
      entry: ['planRetry', 'journalRetryScheduled'],
      exit: 'endResume',
      after: { retryDelay: 'waiting' },
    },
    waiting: {
      tags: ['retrying'],
      always: { guard: 'gateOpen', target: 'publishing' },
    },
    publishing: {
      tags: ['retrying'],
      invoke: {
        id: 'publish',
        src: 'publish',
        input: effectInput,
        onDone: 'awaitingConfirm',
        onError: { target: 'triage', actions: 'recordFailure' },
      },
    },
    awaitingConfirm: {
      tags: ['retrying'],
      on: {
        'confirm.ack': 'confirmed',
        'confirm.failed': { target: 'triage', actions: 'recordFailure' },
      },
      initial: 'timing',
      states: {
        timing: {
          always: { guard: 'connectionBlocked', target: 'blocked' },
          after: {
            confirmTimeout: {
              target: '#message.triage',
              actions: {
                type: 'recordFailure',
                params: {
                  failure: {
                    code: FAILURE_CODES.confirmTimeout,
                    message:
                      'no confirm within the timeout: outcome unknown, republishing with the same message id',
                    permanent: false,
                  },
                },
              },
            },
          },
        },
        /**
         * A blocked broker reads nothing: timing out here would use up an attempt and republish a
         * message that is merely waiting in line. Leaving re-enters `timing`, which restarts the whole
         * timeout rather than resuming what was left of it: an `after` delay can only be cancelled, and
         * resuming would need the time of entry in the context, which a pure machine has no clock for.
         * Waiting the longer is safe: the publisher's confirm tracker, whose clock also stops while
         * blocked, keeps the exact deadline and reports a late confirm as `confirm.failed` first.
         */
        blocked: {
          always: { guard: not('connectionBlocked'), target: 'timing' },
        },
      },
    },
    deadLettering: {
      tags: ['deadLettering'],
      initial: 'waiting',
      states: {
        waiting: { always: { guard: 'gateOpen', target: 'sending' } },
        sending: {
          invoke: {
            id: 'deadLetter',
            src: 'deadLetter',
            input: effectInput,
            onDone: '#message.deadLettered',
            onError: { target: '#message.parked', actions: 'recordDeadLetterFailure' },
          },
        },
      },
    },
    parked: {
      tags: ['parked'],
      entry: 'journalParked',
      exit: 'endResume',
      after: { parkedRetryDelay: 'deadLettering' },
    },
    confirmed: { type: 'final', entry: { type: 'settle', params: { outcome: 'confirmed' } } },
    deadLettered: { type: 'final', entry: { type: 'settle', params: { outcome: 'dead-lettered' } } },
  },
  output: ({ context }) => ({
    messageId: context.messageId,
    outcome: context.outcome ?? 'dead-lettered',
    attempts: context.attempts,
    lastFailure: context.lastFailure,
  }),
});

function fromPromiseNotProvided<T>(name: string) {
  return fromPromise<T, MessageEffectInput>(() =>
    Promise.reject(new Error(`${name} is provided by the runtime`)),
  );
}
