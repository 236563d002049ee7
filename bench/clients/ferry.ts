/**
 * ferry through its public API: `createProducer`, `publishMany()` (its batch call, one journal commit
 * per batch) on the fast path, `publish()` (resolves on acceptance) in the sequential loop, and
 * `flush()` (resolves once every accepted message is confirmed or dead-lettered) to know when the run
 * is done; the dead-lettered count comes from `status()`. A reference configuration awaits every
 * `receipt.settled` instead, as a caller who needs each message's outcome does. The runner declares
 * the queue, so the producer declares no topology of its own. Two journals: memory and sqlite; every
 * configuration but one catches unroutable messages with the alternate exchange the runner gives the
 * bench exchange.
 */
import { join } from 'node:path';
import {
  createProducer,
  type JsonValue,
  type PublishReceipt,
  type PublishRequest,
  type Settlement,
} from '../../src/index.js';
import { registerNoopTracing } from '../noop-tracing.js';
import { type BenchMessage, SPREAD_KEYS, spreadKey, type Target } from '../workload.js';
import type { BenchClient, ClientFactory, ClientSettings, MakeMessage } from './client.js';

/** Messages per `publishMany()` call: one journal commit each. */
const BATCH = 1_000;
/** The in-flight window of the tuned row: a tenth of the default 10,000. */
const NARROW_WINDOW = 1_000;
/** The channel-pool rows' confirm timeout (see {@link Variation.channels}). */
const POOL_CONFIRM_TIMEOUT_MS = 30_000;

/** How many of `settled` ended other than `confirmed` (dead-lettered or rejected). */
async function unconfirmed(settled: readonly Promise<Settlement>[]): Promise<number> {
  const outcomes = await Promise.allSettled(settled);
  return outcomes.filter((outcome) => outcome.status === 'rejected' || outcome.value !== 'confirmed').length;
}

/** How a configuration differs from ferry's recommended one (alternate exchange, default window). */
interface Variation {
  readonly maxInFlight?: number;
  /** Publish every message `mandatory`: ferry's default when no alternate exchange is configured. */
  readonly mandatory?: boolean;
  /** Await every receipt's `settled` instead of one `flush()`: a promise per message. */
  readonly receipts?: boolean;
  /** Set the `appId` and `timestamp` options: 20 bytes more of properties per message. */
  readonly stamped?: boolean;
  /** Register a tracer provider (no-op span processor) and the W3C propagators: a span per message. */
  readonly traced?: boolean;
  /**
   * The `channels` option: confirm channels on the connection, with the messages spread over
   * {@link SPREAD_KEYS} routing keys (all bound to the target's queue) so that the pool has keys to
   * spread. These rows also wait 30 s for a confirm instead of 5 s: on a loaded machine the broker
   * took longer than 5 s to confirm a full window of 10,000, and the republished timeouts (thousands
   * of duplicates) swamped what the pool changes.
   */
  readonly channels?: number;
}

function connectFerry(journal: 'memory' | 'sqlite', variation: Variation = {}): ClientFactory {
  return async (target: Target, settings: ClientSettings) => {
    if (variation.traced === true) await registerNoopTracing();
    const producer = createProducer({
      connection: {
        url: target.url,
        healthCheckExchange: target.exchange,
        clientName: `ferry-bench-${journal}`,
        reconnect: { initialDelayMs: settings.reconnectDelayMs },
        ...(variation.channels === undefined ? {} : { channels: variation.channels }),
      },
      topology: {
        declare: false,
        ...(variation.mandatory === true ? {} : { unroutable: target.unroutable }),
      },
      publish: {
        ...(variation.maxInFlight === undefined ? {} : { maxInFlight: variation.maxInFlight }),
        ...(variation.channels === undefined ? {} : { confirmTimeoutMs: POOL_CONFIRM_TIMEOUT_MS }),
        ...(variation.stamped === true ? { appId: 'ferry-bench', timestamp: true } : {}),
      },
      journal:
        journal === 'memory'
          ? { kind: 'memory' }
          : { kind: 'sqlite', path: join(settings.scratch, 'ferry.db') },
    });
    await producer.start();
    let sent = 0;
    const routingKey = (): string => {
      if (variation.channels === undefined) return target.routingKey;
      sent += 1;
      return spreadKey(target.routingKey, sent);
    };
    const request = (message: BenchMessage): PublishRequest => ({
      exchange: target.exchange,
      routingKey: routingKey(),
      messageId: message.id,
      body: message.body as JsonValue,
    });
    const accept = (message: BenchMessage) => producer.publish(request(message));
    /** Accepted, then confirmed: a dead-lettered message counts as a failure here. */
    const confirmed = async (message: BenchMessage): Promise<void> => {
      const outcome = await (await accept(message)).settled;
      if (outcome !== 'confirmed') throw new Error(`message ${message.id} was ${outcome}`);
    };
    /**
     * Waits until every message is settled; resolves with how many were not confirmed. With one
     * `flush()` those are the dead-lettered ones (a flush that never ends fails the run at the
     * runner's deadline); with receipts, every `settled` is awaited.
     */
    const settleAll = async (receipts: readonly PublishReceipt[], deadLetteredBefore: number) => {
      if (variation.receipts === true) return unconfirmed(receipts.map((receipt) => receipt.settled));
      await producer.flush();
      return producer.status().messages.deadLettered - deadLetteredBefore;
    };
    /** `publishMany` in batches of `batch` (one journal commit each), then every outcome. */
    const batches = async (count: number, make: MakeMessage, batch: number): Promise<number> => {
      const deadLetteredBefore = producer.status().messages.deadLettered;
      const all: PublishReceipt[] = [];
      for (let first = 0; first < count; first += batch) {
        const size = Math.min(batch, count - first);
        const receipts = await producer.publishMany(
          Array.from({ length: size }, (_, i) => request(make(first + i))),
        );
        if (variation.receipts === true) all.push(...receipts);
      }
      return settleAll(all, deadLetteredBefore);
    };
    const client: BenchClient = {
      // ferry's batch API is its fast path.
      pipelined: (count, make) => batches(count, make, BATCH),
      sequential: async (count, make) => {
        // The naive loop awaits each publish(), which resolves on acceptance, then the confirms.
        const deadLetteredBefore = producer.status().messages.deadLettered;
        const receipts: PublishReceipt[] = [];
        for (let n = 0; n < count; n += 1) {
          const receipt = await accept(make(n));
          if (variation.receipts === true) receipts.push(receipt);
        }
        return settleAll(receipts, deadLetteredBefore);
      },
      outstanding: async (count, make) => {
        // Every batch is issued before any is awaited, as the other clients issue every publish: all
        // N are accepted in one turn of the event loop, before a single confirm can come back.
        const deadLetteredBefore = producer.status().messages.deadLettered;
        const accepting: Promise<PublishReceipt[]>[] = [];
        for (let first = 0; first < count; first += BATCH) {
          const size = Math.min(BATCH, count - first);
          accepting.push(
            producer.publishMany(Array.from({ length: size }, (_, i) => request(make(first + i)))),
          );
        }
        const receipts = await Promise.all(accepting);
        return settleAll(variation.receipts === true ? receipts.flat() : [], deadLetteredBefore);
      },
      send: confirmed,
      close: async () => {
        await producer.close({ timeoutMs: 10_000 });
      },
    };
    return client;
  };
}

/**
 * ferry with the memory journal (nothing survives a crash of the process), catching unroutable
 * messages with the exchange's alternate exchange (the `unroutable` option) instead of `mandatory`.
 */
export const createMemoryClient = connectFerry('memory');
/** ferry with the sqlite journal (the service's durable default), alternate exchange as above. */
export const createSqliteClient = connectFerry('sqlite');
/**
 * ferry with the memory journal and an in-flight window of 1,000 instead of the default 10,000: the
 * setting that bounds how many messages wait for a confirm at once (and so what a dropped connection
 * can duplicate), shown to size what the window costs in throughput.
 */
export const createNarrowWindowClient = connectFerry('memory', { maxInFlight: NARROW_WINDOW });
/**
 * ferry with the memory journal and no `unroutable` option: every message `mandatory`, as ferry
 * publishes where no alternate exchange is configured, shown to size what `mandatory` costs.
 */
export const createMandatoryClient = connectFerry('memory', { mandatory: true });
/**
 * ferry with the memory journal awaiting every receipt's `settled` instead of one `flush()`: what a
 * caller pays for each message's own outcome (a promise per message), shown next to the default.
 */
export const createReceiptsClient = connectFerry('memory', { receipts: true });
/**
 * ferry with the memory journal and the `appId` and `timestamp` options set, which ferry leaves off
 * by default: shown to size what those properties cost on this workload.
 */
export const createStampedClient = connectFerry('memory', { stamped: true });
/**
 * ferry with the memory journal and a registered tracer provider (a no-op span processor): a PRODUCER
 * span per message and its context in the headers, shown to size what tracing costs.
 */
export const createTracedClient = connectFerry('memory', { traced: true });
/**
 * ferry with the memory journal, its messages spread over {@link SPREAD_KEYS} routing keys, on one
 * confirm channel: the channel-pool rows' reference, showing what the spread keys alone cost.
 */
export const createSpreadClient = connectFerry('memory', { channels: 1 });
/** As {@link createSpreadClient}, on a pool of two confirm channels (`channels: 2`). */
export const createTwoChannelClient = connectFerry('memory', { channels: 2 });
/** As {@link createSpreadClient}, on a pool of four confirm channels (`channels: 4`). */
export const createFourChannelClient = connectFerry('memory', { channels: 4 });
