/**
 * Soak mode, on demand only (`FERRY_SOAK=1 npx vitest run test/faults`): the other fault files run
 * with more messages, and this one repeats the network faults round after round, each on a fresh
 * producer and proxy, so that a rare interleaving gets its chances. The verdicts land in
 * `.fault-results/` like the others; `npx tsx scripts/reliability-report.ts` tabulates them.
 */
import { afterAll, afterEach, describe, it } from 'vitest';
import {
  deleteTopology,
  SHARED_BROKER_URL,
  type TestTopology,
  uniqueTopology,
} from '../integration/support/broker-objects.js';
import { mergeOptions } from '../support/merge-options.js';
import { FaultProxy } from './support/fault-proxy.js';
import { faultProducer, faultSeed, runFault, SOAK, scenarioRandom } from './support/fault-run.js';

const ROUNDS = Number(process.env.FERRY_SOAK_ROUNDS ?? 5);
const MESSAGES = 20_000;
const seed = SOAK ? faultSeed('soak') : 0;
const created: TestTopology[] = [];
const proxies: FaultProxy[] = [];

afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.stop();
});
afterAll(async () => {
  for (const names of created) await deleteTopology(SHARED_BROKER_URL, names);
});

/** Each fault: how to start it and when and how to end it. */
const FAULTS = {
  reset: { inject: (proxy: FaultProxy) => proxy.reset(), heal: () => undefined, options: {} },
  blackhole: {
    inject: (proxy: FaultProxy) => proxy.set({ blackhole: true }),
    heal: (proxy: FaultProxy) => proxy.heal(),
    options: { connection: { heartbeatSeconds: 1, timeoutMs: 2_000 } },
  },
  refused: {
    inject: (proxy: FaultProxy) => {
      proxy.refuse();
      proxy.closeAll();
    },
    heal: (proxy: FaultProxy) => proxy.accept(),
    options: {},
  },
} as const;

describe.skipIf(!SOAK)(`soak: repeated network faults (seed ${seed})`, () => {
  const rounds = Array.from({ length: ROUNDS }, (_, round) => round);
  for (const [fault, how] of Object.entries(FAULTS)) {
    it.each(rounds)(
      `${fault}, round %i`,
      async (round) => {
        const scenario = `soak-${fault}-${round}`;
        const random = scenarioRandom(seed, scenario);
        const names = uniqueTopology(`fault-${scenario}`);
        created.push(names);
        const proxy = await FaultProxy.start({ targetPort: 5672, random });
        proxies.push(proxy);
        await runFault({
          scenario,
          run: faultProducer(
            mergeOptions(names.producerOptions, { seed }, how.options, { connection: { url: proxy.url } }),
          ),
          names,
          brokerUrl: SHARED_BROKER_URL,
          random,
          messages: MESSAGES,
          inject: () => how.inject(proxy),
          healWhen: (view) =>
            view.phases.outage(view.injectedAt) !== undefined && Date.now() - view.injectedAt >= 1_000,
          heal: () => how.heal(proxy),
          reconnects: true,
        });
      },
      300_000,
    );
  }
});
