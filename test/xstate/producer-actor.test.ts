/**
 * `ferry/xstate`: a user's own machine invokes the producer, publishes through the real broker (via a
 * fault proxy), notices the connection drop when the proxy closes it and come back, publishes again,
 * and closes the producer by leaving the state that invoked it.
 */
import { afterEach, expect, it } from 'vitest';
import { assign, createActor, sendTo, setup, waitFor } from 'xstate';
import { type ProducerActorEvent, producerActor } from '../../src/xstate/index.js';
import { FaultProxy } from '../faults/support/fault-proxy.js';
import { deleteTopology, SHARED_BROKER_URL, uniqueTopology } from '../integration/support/broker-objects.js';
import { mergeOptions } from '../support/merge-options.js';

const names = uniqueTopology('xstate-actor');
let proxy: FaultProxy | null = null;

afterEach(async () => {
  await proxy?.stop();
  await deleteTopology(SHARED_BROKER_URL, names);
});

interface ParentContext {
  readonly url: string;
  readonly outcomes: readonly string[];
}

/** Publishes once connected, waits for the connection to drop and return, publishes again, then stops. */
const parent = setup({
  types: { context: {} as ParentContext, events: {} as ProducerActorEvent, input: {} as { url: string } },
  actors: { ferry: producerActor },
  actions: {
    record: assign({
      outcomes: ({ context, event }) => [
        ...context.outcomes,
        event.type === 'ferry.settled' ? event.outcome : event.type,
      ],
    }),
  },
}).createMachine({
  id: 'user-service',
  context: ({ input }) => ({ url: input.url, outcomes: [] }),
  initial: 'running',
  states: {
    running: {
      invoke: {
        id: 'ferry',
        src: 'ferry',
        input: ({ context }) => ({
          options: mergeOptions(names.producerOptions, {
            connection: { url: context.url, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
          }),
        }),
      },
      initial: 'connecting',
      states: {
        connecting: {
          on: {
            'ferry.status': {
              guard: ({ event }) => event.status.connection === 'connected',
              target: 'first',
            },
          },
        },
        first: {
          entry: sendTo('ferry', {
            type: 'ferry.publish',
            requestId: 'first',
            request: { exchange: names.exchange, routingKey: names.queue, body: { n: 1 } },
          }),
          on: { 'ferry.settled': { target: 'connected', actions: 'record' } },
        },
        connected: {
          on: {
            'ferry.status': { guard: ({ event }) => event.status.connection !== 'connected', target: 'lost' },
          },
        },
        lost: {
          on: {
            'ferry.status': {
              guard: ({ event }) => event.status.connection === 'connected',
              target: 'second',
            },
          },
        },
        second: {
          entry: sendTo('ferry', {
            type: 'ferry.publish',
            requestId: 'second',
            request: { exchange: names.exchange, routingKey: names.queue, body: { n: 2 } },
          }),
          on: { 'ferry.settled': { target: '#user-service.done', actions: 'record' } },
        },
      },
    },
    done: {},
  },
});

it('publishes through the broker, follows a dropped connection back, and closes the producer when stopped', async () => {
  proxy = await FaultProxy.start({ targetPort: 5672 });
  const service = createActor(parent, { input: { url: proxy.url } });
  const visited: string[] = [];
  service.subscribe((snapshot) => {
    const value = snapshot.value;
    const state = typeof value === 'string' ? value : String(value.running);
    if (state !== 'done' && visited.at(-1) !== state) visited.push(state);
  });
  service.start();
  await waitFor(service, (s) => s.matches({ running: 'connected' }), { timeout: 15_000 });
  expect(proxy.open).toBeGreaterThan(0);

  proxy.closeAll();
  await waitFor(service, (s) => s.matches({ running: 'lost' }) || s.matches({ running: 'second' }), {
    timeout: 15_000,
  });
  const done = await waitFor(service, (s) => s.matches('done'), { timeout: 20_000 });
  expect(done.context.outcomes).toEqual(['confirmed', 'confirmed']);
  // It went through every state: connected, published, lost the connection, saw it back, published.
  expect(visited).toEqual(['connecting', 'first', 'connected', 'lost', 'second']);
  expect(proxy.accepted).toBeGreaterThanOrEqual(2);

  // Leaving `running` stopped the invoked producer: it closes its connection.
  const deadline = Date.now() + 10_000;
  while (proxy.open > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(proxy.open).toBe(0);
  service.stop();
}, 60_000);
