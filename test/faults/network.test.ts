/**
 * Network faults between ferry and the broker, injected by a TCP proxy: a reset (RST), a blackhole
 * (half-open socket, found by heartbeats), a slow link (latency, jitter, a bandwidth cap), connection
 * refused then healed, and a DNS failure healed by failing over to a second URL. The broker itself is
 * unharmed, so these run against the shared broker, each on its own exchange and queues, and only
 * ferry's own connection (through its own proxy) is broken.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  deleteTopology,
  SHARED_BROKER_URL,
  type TestTopology,
  uniqueTopology,
} from '../integration/support/broker-objects.js';
import { mergeOptions } from '../support/merge-options.js';
import { offlineLookup } from '../support/offline-dns.js';
import { FaultProxy } from './support/fault-proxy.js';
import {
  type FaultProducer,
  faultProducer,
  faultSeed,
  runFault,
  SOAK,
  scenarioRandom,
} from './support/fault-run.js';

const seed = faultSeed('network');
const MESSAGES = SOAK ? 20_000 : 3_000;
/** How long the outages that ferry cannot end itself last: long enough to see several reconnect attempts. */
const FAULT_MS = 1_500;
const created: TestTopology[] = [];
const proxies: FaultProxy[] = [];

afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.stop();
});
afterAll(async () => {
  for (const names of created) await deleteTopology(SHARED_BROKER_URL, names);
});

interface Setup {
  readonly names: TestTopology;
  readonly proxy: FaultProxy;
  readonly run: FaultProducer;
  readonly random: () => number;
}

/** A proxy to the shared broker and a producer that goes through it. */
async function setup(scenario: string, options: Parameters<typeof faultProducer>[0] = {}): Promise<Setup> {
  const random = scenarioRandom(seed, scenario);
  const names = uniqueTopology(`fault-${scenario}`);
  created.push(names);
  const proxy = await FaultProxy.start({ targetPort: 5672, random });
  proxies.push(proxy);
  const run = faultProducer(
    mergeOptions(names.producerOptions, { seed }, options, { connection: { url: proxy.url } }),
  );
  return { names, proxy, run, random };
}

/** Lost connection at or after the fault, seen on `state$`. */
const lostSince = (view: { phases: { outage(since: number): unknown }; injectedAt: number }): boolean =>
  view.phases.outage(view.injectedAt) !== undefined;

describe(`network faults (seed ${seed})`, () => {
  it('TCP reset mid-stream: reconnects, republishes the unconfirmed, loses nothing', async () => {
    const { names, proxy, run, random } = await setup('tcp-reset');
    await runFault({
      scenario: 'tcp-reset',
      run,
      names,
      brokerUrl: SHARED_BROKER_URL,
      random,
      messages: MESSAGES,
      inject: () => proxy.reset(),
      healWhen: lostSince,
      heal: () => undefined,
      reconnects: true,
    });
  }, 120_000);

  it('blackhole (half-open socket): heartbeats find it, the stream goes on over a new connection', async () => {
    const { names, proxy, run, random } = await setup('blackhole', {
      connection: { heartbeatSeconds: 1, timeoutMs: 2_000 },
    });
    await runFault({
      scenario: 'blackhole',
      run,
      names,
      brokerUrl: SHARED_BROKER_URL,
      random,
      messages: MESSAGES,
      inject: () => proxy.set({ blackhole: true }),
      // Healed once ferry gave up the silent connection (heartbeat or confirm timeout).
      healWhen: lostSince,
      heal: () => proxy.heal(),
      reconnects: true,
    });
  }, 120_000);

  it('slow link (latency with jitter and a bandwidth cap): no false timeouts, no reconnect, no duplicates', async () => {
    const { names, proxy, run, random } = await setup('slow-link');
    const result = await runFault({
      scenario: 'slow-link',
      run,
      names,
      brokerUrl: SHARED_BROKER_URL,
      random,
      messages: MESSAGES,
      inject: () => proxy.set({ latencyMs: 40, jitterMs: 30, bytesPerSecond: 256 * 1024 }),
      // A third of the stream crosses the slow link.
      healWhen: (view) => view.accepted >= MESSAGES * 0.5 + MESSAGES / 3 || view.accepted >= MESSAGES,
      heal: () => proxy.heal(),
      reconnects: false,
    });
    expect(result.unknownOutcomes).toBe(0);
    expect(result.verdict.duplicated).toBe(0);
  }, 120_000);

  it('connection refused, then healed: slow retries while refused, everything delivered after', async () => {
    const { names, proxy, run, random } = await setup('refused');
    await runFault({
      scenario: 'connection-refused',
      run,
      names,
      brokerUrl: SHARED_BROKER_URL,
      random,
      messages: MESSAGES,
      inject: () => {
        proxy.refuse();
        proxy.closeAll();
      },
      // Healed after a few refused attempts, long enough to tell a backoff from a hot loop.
      healWhen: (view) =>
        Date.now() - view.injectedAt >= FAULT_MS &&
        view.producer.status().connection.lastError?.code === 'CONNECTION_REFUSED' &&
        view.producer.status().connection.attempts >= 3,
      heal: () => proxy.accept(),
      reconnects: true,
    });
  }, 120_000);

  it('DNS failure (*.invalid) on the first URL, healed by failing over to the second', async () => {
    const random = scenarioRandom(seed, 'dns-failover');
    const names = uniqueTopology('fault-dns-failover');
    created.push(names);
    const proxy = await FaultProxy.start({ targetPort: 5672, random });
    proxies.push(proxy);
    const run = faultProducer(
      mergeOptions(names.producerOptions, {
        seed,
        connection: {
          urls: ['amqp://guest:guest@ferry-fault-test.invalid:5672', proxy.url],
          // The DNS failure is made here, not by a resolver: tests send no traffic off this machine.
          lookup: offlineLookup,
        },
      }),
    );
    let sawDnsFailure = false;
    const result = await runFault({
      scenario: 'dns-failover',
      run,
      names,
      brokerUrl: SHARED_BROKER_URL,
      random,
      messages: MESSAGES,
      // The second URL goes away too: every round now fails on both, the first with a DNS failure.
      inject: () => {
        proxy.refuse();
        proxy.closeAll();
      },
      healWhen: (view) => {
        const code = view.producer.status().connection.lastError?.code;
        sawDnsFailure ||=
          code === 'DNS_FAILURE' ||
          /ENOTFOUND|EAI_AGAIN/.test(String(view.producer.status().connection.lastError?.message));
        return sawDnsFailure && Date.now() - view.injectedAt >= FAULT_MS;
      },
      heal: () => proxy.accept(),
      reconnects: true,
    });
    expect(sawDnsFailure).toBe(true);
    expect(result.status.connection.endpoint).toBe(`amqp://guest:***@127.0.0.1:${proxy.port}`);
  }, 120_000);
});
