/**
 * The amqplib session against the shared broker: confirms, returns, nacks, channel and connection
 * loss, backpressure, declarations. Every object is a throwaway one, deleted afterwards.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAmqplibBroker } from '../../src/amqp/amqplib-session.js';
import { ConfirmTracker, type SettleOutcome } from '../../src/amqp/confirm-tracker.js';
import type { AmqpConnectOptions, BrokerSession } from '../../src/amqp/ports.js';
import { buildTopology } from '../../src/amqp/topology.js';
import { FerryError } from '../../src/errors.js';
import { FaultProxy } from '../faults/support/fault-proxy.js';
import { recordUnhandledRejections, rejectionsReported } from '../support/unhandled-rejections.js';
import {
  closeConnectionNamed,
  connectOptions,
  deleteObjects,
  eventually,
  messageCount,
  Recorder,
  uniqueName,
} from './helpers.js';

const exchange = uniqueName('x');
const queue = uniqueName('q');
const limited = uniqueName('limited');
const deadLetterExchange = uniqueName('dlx');
const deadLetterQueue = uniqueName('dlq');
/** The product's topology shape (quorum queues with the workers' arguments) under throwaway names. */
const topology = buildTopology({ exchange, queues: [queue], deadLetterExchange, deadLetterQueue });
const body = Buffer.alloc(1024, 'x');

/** A recorder that also keeps a confirm tracker, as the runtime will. */
class Tracked extends Recorder {
  readonly tracker = new ConfirmTracker<string>({ messageId: (id) => id });
  readonly outcomes = new Map<string, SettleOutcome>();
  private readonly settle = (id: string, outcome: SettleOutcome) => this.outcomes.set(id, outcome);

  constructor(readonly session: BrokerSession) {
    super();
    session.setListener(this);
  }

  publish(messageId: string, routingKey = queue, to = exchange): boolean {
    const written = this.session.publish(to, routingKey, body, { messageId, persistent: true }, true);
    expect(this.tracker.track(messageId, Number.MAX_SAFE_INTEGER)).toBe(this.session.nextDeliveryTag - 1);
    return written;
  }

  settled(): Promise<ReadonlyMap<string, SettleOutcome>> {
    return this.until(() => (this.tracker.size === 0 ? this.outcomes : undefined), 10_000, 'all confirms');
  }

  override ack(tag: number, multiple: boolean): void {
    this.tracker.ack(tag, multiple, this.settle);
    super.ack(tag, multiple);
  }
  override nack(tag: number, multiple: boolean): void {
    this.tracker.nack(tag, multiple, this.settle);
    super.nack(tag, multiple);
  }
  override returned(messageId: string | undefined, replyCode: number): void {
    this.tracker.markReturned(messageId);
    super.returned(messageId, replyCode);
  }
}

/** The socket methods every write goes through: one call each, a batch in `_writev`. */
interface SocketWrites {
  _write: (...args: unknown[]) => void;
  _writev: (...args: unknown[]) => void;
}

const sessions: BrokerSession[] = [];
const unhandled = recordUnhandledRejections();
const servers: FaultProxy[] = [];

async function open(overrides: Partial<AmqpConnectOptions> = {}): Promise<Tracked> {
  const session = await createAmqplibBroker().connect(
    connectOptions(overrides),
    new AbortController().signal,
  );
  sessions.push(session);
  return new Tracked(session);
}

beforeAll(async () => {
  const tracked = await open();
  await tracked.session.declare(topology);
  await tracked.session.declare({
    exchanges: [],
    queues: [
      { name: limited, durable: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } },
    ],
    bindings: [{ queue: limited, exchange, routingKey: limited }],
  });
});

afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close();
  for (const server of servers.splice(0)) await server.stop();
});

afterAll(async () => {
  await deleteObjects({
    queues: [queue, limited, deadLetterQueue],
    exchanges: [exchange, deadLetterExchange],
  });
});

describe('publishing with confirms', () => {
  it('gets every tag acked, counting tags from 1', async () => {
    const tracked = await open();
    expect(tracked.session.endpoint).toBe('amqp://guest:***@127.0.0.1:5672');
    const before = await messageCount(queue);
    const ids = Array.from({ length: 500 }, (_, i) => `m-${i}`);
    for (const id of ids) tracked.publish(id);
    expect(tracked.session.nextDeliveryTag).toBe(501);
    const outcomes = await tracked.settled();
    expect(ids.map((id) => outcomes.get(id))).toEqual(ids.map(() => 'confirmed'));
    expect(await messageCount(queue)).toBe(before + 500);
    expect(tracked.events.filter((e) => e.type === 'nack' || e.type === 'returned')).toEqual([]);
  });

  it('an unroutable message comes back as returned, before its ack', async () => {
    const tracked = await open();
    tracked.publish('routed');
    tracked.publish('unroutable', 'nobody.listens');
    tracked.publish('routed-too');
    const outcomes = await tracked.settled();
    expect(Object.fromEntries(outcomes)).toEqual({
      routed: 'confirmed',
      unroutable: 'returned',
      'routed-too': 'confirmed',
    });
    const returned = tracked.events.findIndex((e) => e.type === 'returned');
    const ackOfIt = tracked.events.findIndex(
      (e) => e.type === 'ack' && (e.tag === 2 || (e.multiple && e.tag > 2)),
    );
    expect(tracked.events[returned]).toEqual({ type: 'returned', messageId: 'unroutable', replyCode: 312 });
    expect(returned).toBeLessThan(ackOfIt);
  });

  it('a full reject-publish queue nacks', async () => {
    const tracked = await open();
    for (const id of ['first', 'second', 'third']) tracked.publish(id, limited);
    expect(Object.fromEntries(await tracked.settled())).toEqual({
      first: 'confirmed',
      second: 'nacked',
      third: 'nacked',
    });
  });

  it('a thousand messages published in one turn leave in a few socket writes, not one each', async () => {
    const tracked = await open();
    // The adapter's socket (amqplib internals, as the adapter itself reaches them to destroy it).
    const socket = (tracked.session as unknown as { model: { connection: { stream: SocketWrites } } }).model
      .connection.stream;
    let writes = 0;
    const write = socket._write.bind(socket);
    const writev = socket._writev.bind(socket);
    socket._write = (...args) => {
      writes += 1;
      write(...args);
    };
    socket._writev = (...args) => {
      writes += 1;
      writev(...args);
    };
    // A thousand 1 KiB bodies are many times the socket's write buffer (16 KiB on Node 20), which a
    // corked socket fills before amqplib's muxer waits for `drain`: the passes after it count too.
    const ids = Array.from({ length: 1_000 }, (_, i) => `burst-${i}`);
    for (const id of ids) tracked.publish(id);
    const outcomes = await tracked.settled();
    expect(ids.map((id) => outcomes.get(id))).toEqual(ids.map(() => 'confirmed'));
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThan(ids.length / 10);
  });

  it('publish returns false when the write buffer is full, then drain follows', async () => {
    const tracked = await open();
    let published = 0;
    while (tracked.publish(`bulk-${published}`)) {
      published += 1;
      expect(published).toBeLessThan(100_000);
    }
    await tracked.next('drain');
    const outcomes = await tracked.settled();
    expect([...outcomes.values()].every((outcome) => outcome === 'confirmed')).toBe(true);
    expect(outcomes.size).toBe(published + 1);
  });
});

describe('channel errors', () => {
  it('a publish to a missing exchange closes the channel (NOT_FOUND); reopening restarts tags at 1', async () => {
    const tracked = await open();
    tracked.publish('lost', 'any', uniqueName('missing'));
    const { error } = await tracked.next('channelClosed');
    expect(error).toMatchObject({ code: 'NOT_FOUND', severity: 'reopen-channel', permanent: false });
    const drained: SettleOutcome[] = [];
    tracked.tracker.drain((_id, outcome) => drained.push(outcome));
    expect(drained).toEqual(['channel-lost']);
    expect(() => tracked.publish('too-early')).toThrow(FerryError);
    expect(tracked.session.nextDeliveryTag).toBe(2);

    await tracked.session.reopenChannel();
    expect(tracked.session.nextDeliveryTag).toBe(1);
    tracked.publish('after-reopen');
    expect(Object.fromEntries(await tracked.settled())).toMatchObject({ 'after-reopen': 'confirmed' });
    expect(tracked.events.some((e) => e.type === 'connectionClosed')).toBe(false);
  });

  it('reopening at once after a close does not overtake the frames still queued on the old channel', async () => {
    // The runtime reopens from inside `channelClosed`, while frames written before the close may still
    // wait in the old channel's write buffer, its close-ok last. The new channel gets the same number:
    // had its open gone out first, the broker would close the connection (504 "second 'channel.open'").
    const tracked = await open();
    let reopening: Promise<void> | undefined;
    tracked.channelClosed = (error) => {
      reopening ??= tracked.session.reopenChannel();
      Recorder.prototype.channelClosed.call(tracked, error);
    };
    const missing = uniqueName('missing');
    let n = 0;
    const stream = (): void => {
      try {
        while (reopening === undefined && n < 200_000) {
          n += 1;
          tracked.session.publish(missing, 'any', body, { messageId: `queued-${n}` }, true);
        }
      } catch {
        return; // the channel is gone: nothing more is written on it
      }
      if (reopening === undefined) setImmediate(stream);
    };
    stream();
    await tracked.next('channelClosed');
    await reopening;
    tracked.tracker.drain(() => undefined);
    tracked.publish('after-reopen');
    expect(Object.fromEntries(await tracked.settled())).toMatchObject({ 'after-reopen': 'confirmed' });
    expect(tracked.events.filter((e) => e.type === 'connectionClosed')).toEqual([]);
  });

  it('a failed health check or declaration leaves the confirm channel alone', async () => {
    const tracked = await open();
    await tracked.session.checkExchange(exchange);
    await expect(tracked.session.checkExchange(uniqueName('missing'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const mismatch = await tracked.session
      .declare({
        exchanges: [],
        queues: [{ name: queue, durable: true, arguments: { 'x-queue-type': 'classic' } }],
        bindings: [],
      })
      .catch((e: unknown) => e as FerryError);
    expect(mismatch).toMatchObject({
      code: 'TOPOLOGY_MISMATCH',
      severity: 'fatal',
      permanent: true,
      details: { kind: 'queue', name: queue, replyCode: 406 },
    });
    expect((mismatch as FerryError).message).toContain(`queue '${queue}'`);
    await tracked.session.checkExchange(exchange);
    await tracked.session.declare(topology);
    tracked.publish('still-fine');
    expect(Object.fromEntries(await tracked.settled())).toEqual({ 'still-fine': 'confirmed' });
    expect(tracked.events.filter((e) => e.type === 'channelClosed' || e.type === 'connectionClosed')).toEqual(
      [],
    );
  });
});

describe('connection loss', () => {
  it('an operator closing the connection: CONNECTION_FORCED', async () => {
    const clientName = uniqueName('forced');
    const tracked = await open({ clientName });
    await closeConnectionNamed(clientName, 'ferry test');
    const { error } = await tracked.next('connectionClosed');
    expect(error).toMatchObject({ code: 'CONNECTION_FORCED', severity: 'reconnect', permanent: false });
    expect(error.message).toContain('ferry test');
    expect(tracked.events.some((e) => e.type === 'channelClosed')).toBe(false);
    expect(() => tracked.publish('after')).toThrow(FerryError);
  });

  it('a broker that stops sending: HEARTBEAT_TIMEOUT', async () => {
    const proxy = await FaultProxy.start({ targetPort: 5672 });
    servers.push(proxy);
    const tracked = await open({ urls: [proxy.url], heartbeatSeconds: 1 });
    proxy.stall();
    const { error } = await tracked.next('connectionClosed', 10_000);
    expect(error).toMatchObject({ code: 'HEARTBEAT_TIMEOUT', severity: 'reconnect' });
  });

  it('a close that happens before a listener is set is delivered when it is set', async () => {
    const proxy = await FaultProxy.start({ targetPort: 5672 });
    servers.push(proxy);
    const session = await createAmqplibBroker().connect(
      connectOptions({ urls: [proxy.url] }),
      new AbortController().signal,
    );
    sessions.push(session);
    await proxy.stop();
    // The session reports the loss only through the listener; until then, publishing shows it.
    await eventually(() => {
      try {
        session.publish('amq.topic', 'nobody.listens', body, {}, true);
        return false;
      } catch {
        return true;
      }
    });
    const recorder = new Recorder();
    session.setListener(recorder);
    expect(recorder.events.map((e) => e.type)).toEqual(['connectionClosed']);
  });

  it('close and destroy report nothing, and destroy is idempotent', async () => {
    const tracked = await open();
    tracked.publish('before-close');
    await tracked.settled();
    await tracked.session.close();
    tracked.session.destroy();
    tracked.session.destroy();
    const other = await open();
    other.session.destroy();
    other.session.destroy();
    await expect(other.session.close()).resolves.toBeUndefined();
    expect([...tracked.events, ...other.events].filter((e) => e.type.endsWith('Closed'))).toEqual([]);
  });
});

describe('consuming', () => {
  it('a delivery handled after its session closed is left to the broker, with no unhandled rejection', async () => {
    const tracked = await open();
    tracked.publish('consumed-late');
    await tracked.settled();
    let handled: () => void = () => undefined;
    const delivered = new Promise<void>((resolveDelivered) => {
      void tracked.session.consume(
        queue,
        () => {
          resolveDelivered();
          return new Promise<void>((resolve) => {
            handled = resolve;
          });
        },
        () => undefined,
      );
    });
    await delivered;
    await tracked.session.close();
    handled();
    await rejectionsReported();
    expect(unhandled).toEqual([]);
  });
});
