/**
 * `ferry/xstate`'s `provideSupervisor`: a user runs ferry's supervisor machine in their own
 * `createActor` with effects of their own. With fake ports on a simulated clock: it connects, notices a
 * lost connection and reconnects after its backoff, and takes a retrying message through its ports
 * (publish, confirm, outcome, backlog, journal). With a connection port on plain amqplib: it connects
 * to the real broker through a fault proxy, notices the proxy closing the connection and comes back.
 */
import amqplib from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, SimulatedClock, waitFor } from 'xstate';
import { DEFAULT_RECONNECT_BACKOFF } from '../../machines/backoff.js';
import {
  type ConnectionEvent,
  type MessageOutput,
  provideSupervisor,
  type RetryTicket,
  type SupervisorConnectionPort,
  type SupervisorInput,
  type SupervisorMessagePort,
} from '../../src/xstate/index.js';
import { FaultProxy } from '../faults/support/fault-proxy.js';

const failure = { code: 'ECONNRESET', message: 'socket closed', permanent: false };
const nacked = { code: 'NACKED', message: 'the broker nacked it', permanent: false };

/** Every reconnect and retry waits exactly this long (no jitter), for the simulated clock to step over. */
const DELAY_MS = 100;
const fixed = {
  ...DEFAULT_RECONNECT_BACKOFF,
  initialDelayMs: DELAY_MS,
  maxDelayMs: DELAY_MS,
  jitter: 'none',
} as const;
const input: SupervisorInput = {
  seed: 7,
  connection: { reconnect: fixed },
  message: { retry: fixed },
  maxLiveMessages: 1,
};

interface FakeConnection extends SupervisorConnectionPort {
  connects: number;
  disconnects: number;
  /** Reports the connection lost, as amqplib's `close` event would. */
  lose(): void;
}

/** A connection port that connects at once and lets the test drop the connection. */
function fakeConnection(): FakeConnection {
  let sink: ((event: ConnectionEvent) => void) | null = null;
  const port: FakeConnection = {
    connects: 0,
    disconnects: 0,
    connect: async () => {
      port.connects += 1;
      return { endpoint: `amqp://fake/${port.connects}` };
    },
    watch: (next: (event: ConnectionEvent) => void) => {
      sink = next;
      return () => {
        if (sink === next) sink = null;
      };
    },
    healthCheck: async () => undefined,
    disconnect: async () => {
      port.disconnects += 1;
    },
    dropConnection: () => undefined,
    lose: () => sink?.({ type: 'connection.lost', failure }),
  };
  return port;
}

describe('provideSupervisor with fake ports', () => {
  it('connects, follows a lost connection through its backoff back to connected, and closes', async () => {
    const connection = fakeConnection();
    const messages: SupervisorMessagePort = {
      publishRetry: async () => undefined,
      deadLetter: async () => undefined,
      reportOutcome: () => undefined,
    };
    const backlog = { holdInBacklog: () => undefined, releaseFromBacklog: () => undefined };
    const clock = new SimulatedClock();
    const supervisor = createActor(provideSupervisor({ connection, messages, backlog }), { input, clock });
    const phases: string[] = [];
    supervisor.subscribe((s) => {
      if (phases.at(-1) !== s.context.connectionPhase) phases.push(s.context.connectionPhase);
    });
    supervisor.start();
    supervisor.send({ type: 'supervisor.start' });
    await waitFor(supervisor, (s) => s.context.connectionPhase === 'connected', { timeout: 2_000 });
    expect(supervisor.getSnapshot().context.gateOpen).toBe(true);

    connection.lose();
    const lost = supervisor.getSnapshot().context;
    expect(lost.connectionPhase).toBe('reconnecting');
    expect(lost.gateOpen).toBe(false);
    // Nothing reconnects before the backoff delay has passed.
    clock.increment(DELAY_MS - 1);
    expect(connection.connects).toBe(1);
    clock.increment(1);
    await waitFor(supervisor, (s) => s.context.connectionPhase === 'connected', { timeout: 2_000 });
    expect(connection.connects).toBe(2);

    supervisor.send({ type: 'supervisor.close' });
    await waitFor(supervisor, (s) => s.status === 'done', { timeout: 2_000 });
    expect(connection.disconnects).toBe(1);
    expect(phases).toEqual([
      'idle',
      'connecting',
      'connected',
      'reconnecting',
      'connecting',
      'connected',
      'closing',
      'closed',
    ]);
  });

  it('takes retrying messages through the message, backlog and journal ports', async () => {
    const connection = fakeConnection();
    const published: string[] = [];
    const outcomes: MessageOutput[] = [];
    const journaled: string[] = [];
    const held: RetryTicket[] = [];
    const clock = new SimulatedClock();
    const supervisor = createActor(
      provideSupervisor({
        connection,
        messages: {
          publishRetry: async (message) => {
            published.push(message.messageId);
          },
          deadLetter: async () => undefined,
          reportOutcome: (output) => outcomes.push(output),
        },
        backlog: {
          holdInBacklog: (ticket) => held.push(ticket),
          releaseFromBacklog: () => {
            const ticket = held.shift();
            if (ticket !== undefined) supervisor.send({ type: 'message.retry', ticket, fromBacklog: true });
          },
        },
        journal: {
          journalFailure: (context) => journaled.push(`failed ${context.messageId}`),
          journalRetryScheduled: (context) => journaled.push(`retry ${context.messageId}`),
          journalParked: (context) => journaled.push(`parked ${context.messageId}`),
        },
      }),
      { input, clock },
    );
    supervisor.start();
    supervisor.send({ type: 'supervisor.start' });
    await waitFor(supervisor, (s) => s.context.connectionPhase === 'connected', { timeout: 2_000 });

    // One live actor at most: the second ticket waits in the user's backlog.
    for (const messageId of ['m1', 'm2']) {
      supervisor.send({ type: 'message.retry', ticket: { messageId, attempts: 1, failure: nacked } });
    }
    expect(held.map((ticket) => ticket.messageId)).toEqual(['m2']);
    expect(journaled).toEqual(['failed m1', 'retry m1']);
    clock.increment(DELAY_MS);
    await waitFor(supervisor, () => published.length === 1, { timeout: 2_000 });
    expect(published).toEqual(['m1']);

    // The confirm reaches the supervisor as an event; the outcome leaves through the port, and the
    // freed slot takes the held ticket.
    supervisor.send({ type: 'message.ack', messageId: 'm1' });
    await waitFor(supervisor, () => outcomes.length === 1, { timeout: 2_000 });
    expect(held).toEqual([]);
    clock.increment(DELAY_MS);
    await waitFor(supervisor, () => published.length === 2, { timeout: 2_000 });
    supervisor.send({ type: 'message.ack', messageId: 'm2' });
    await waitFor(supervisor, () => outcomes.length === 2, { timeout: 2_000 });
    expect(outcomes.map((o) => [o.messageId, o.outcome])).toEqual([
      ['m1', 'confirmed'],
      ['m2', 'confirmed'],
    ]);
    expect(journaled).toEqual(['failed m1', 'retry m1', 'failed m2', 'retry m2']);
    expect(supervisor.getSnapshot().context.confirmedAfterRetry).toBe(2);
    supervisor.stop();
  });
});

describe('provideSupervisor with a connection port on plain amqplib', () => {
  let proxy: FaultProxy | null = null;
  afterEach(async () => {
    await proxy?.stop();
    proxy = null;
  });

  it('connects to the broker, notices the connection closed under it, and reconnects', async () => {
    proxy = await FaultProxy.start({ targetPort: 5672 });
    const url = proxy.url;
    let current: amqplib.ChannelModel | null = null;
    const connection: SupervisorConnectionPort = {
      connect: async () => {
        current = await amqplib.connect(url);
        // amqplib emits `error` before `close` on a broken socket; `watch` reports the close.
        current.on('error', () => undefined);
        return { endpoint: 'amqp://127.0.0.1 (proxied)' };
      },
      watch: (sink) => {
        const model = current;
        const lost = (): void => sink({ type: 'connection.lost', failure });
        model?.once('close', lost);
        return () => model?.off('close', lost);
      },
      healthCheck: async () => {
        const channel = await current?.createChannel();
        await channel?.close();
      },
      disconnect: async () => {
        await current?.close();
      },
      dropConnection: () => {
        current?.removeAllListeners('close');
        current = null;
      },
    };
    const fast: SupervisorInput = {
      seed: 1,
      connection: {
        reconnect: { ...DEFAULT_RECONNECT_BACKOFF, initialDelayMs: 50, maxDelayMs: 200 },
      },
    };
    const messages: SupervisorMessagePort = {
      publishRetry: async () => undefined,
      deadLetter: async () => undefined,
      reportOutcome: () => undefined,
    };
    const backlog = { holdInBacklog: () => undefined, releaseFromBacklog: () => undefined };
    const supervisor = createActor(provideSupervisor({ connection, messages, backlog }), { input: fast });
    supervisor.start();
    supervisor.send({ type: 'supervisor.start' });
    await waitFor(supervisor, (s) => s.context.connectionPhase === 'connected', { timeout: 10_000 });
    expect(proxy.open).toBe(1);

    proxy.closeAll();
    await waitFor(supervisor, (s) => s.context.connectionPhase !== 'connected', { timeout: 10_000 });
    await waitFor(supervisor, (s) => s.context.connectionPhase === 'connected', { timeout: 10_000 });
    expect(proxy.accepted).toBe(2);

    supervisor.send({ type: 'supervisor.close' });
    await waitFor(supervisor, (s) => s.status === 'done', { timeout: 10_000 });
    const deadline = Date.now() + 10_000;
    while (proxy.open > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(proxy.open).toBe(0);
  }, 40_000);
});
