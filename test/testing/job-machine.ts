/**
 * A small machine with everything the harness has to handle: a promise actor and a callback actor, a
 * numeric and a named delay, an eventless transition with a guard, a named action and input.
 */
import { assign, fromCallback, fromPromise, setup } from 'xstate';

export interface JobInput {
  readonly retries: number;
}

export const jobMachine = setup({
  types: {
    input: {} as JobInput,
    context: {} as { readonly retries: number; readonly tries: number; readonly result: string | null },
    events: {} as { readonly type: 'start' } | { readonly type: 'cancel' },
  },
  actors: {
    work: fromPromise<string, { readonly try: number }>(() =>
      Promise.reject(new Error('work is not provided')),
    ),
    listen: fromCallback(() => undefined),
  },
  actions: { report: () => undefined },
  guards: { canRetry: ({ context }) => context.tries < context.retries },
  delays: { backoff: ({ context }) => 100 * context.tries },
}).createMachine({
  id: 'job',
  context: ({ input }) => ({ retries: input.retries, tries: 0, result: null }),
  initial: 'idle',
  states: {
    idle: { on: { start: 'running' } },
    running: {
      entry: assign({ tries: ({ context }) => context.tries + 1 }),
      invoke: [
        {
          id: 'work',
          src: 'work',
          input: ({ context }) => ({ try: context.tries }),
          onDone: { target: 'done', actions: assign({ result: ({ event }) => event.output }) },
          onError: 'failing',
        },
        { id: 'listen', src: 'listen' },
      ],
      after: { 1000: 'failing' },
      on: { cancel: 'done' },
    },
    failing: { always: [{ guard: 'canRetry', target: 'waiting' }, { target: 'done' }] },
    waiting: { entry: 'report', after: { backoff: 'running' } },
    done: { type: 'final' },
  },
});
