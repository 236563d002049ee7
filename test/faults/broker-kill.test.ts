/**
 * `kill -9` of the broker node and a restart on the same data and port, with ferry at its busiest: a
 * few hundred messages retrying (the node frozen first, so that confirms time out and the breaker
 * opens), many messages in flight, the breaker half-open with its probe on the wire, and the node
 * killed twice in a row. ferry's promise is that nothing accepted stays stuck once the broker is back:
 * every accepted message ends confirmed or dead-lettered, with nothing left in flight, retrying or
 * parked, and the breaker closed again, on its own. Each scenario is scored like the rest of the fault
 * suite and recorded in `.fault-results/`.
 *
 * The work queue is a durable classic queue and messages are persistent, so what was confirmed before a
 * kill (written to disk) survives it. Not a quorum queue: on the RabbitMQ these tests run against
 * (3.10.8), a single-node quorum queue killed this way sometimes comes back with its Ra member stuck as
 * a follower (`sys:get_state` says `follower`, the node's log repeats "leader call - leader not known")
 * for minutes, and then no client's publish to it is confirmed, not ferry's and not a fresh amqplib
 * client's: a broker that has not healed. ferry then keeps every message and probes the breaker after
 * each cooldown, which is all it can do, and the scenario could not tell ferry's recovery from the
 * broker's.
 */
import { describe, it } from 'vitest';
import type { Producer } from '../../src/producer/producer.js';
import type { ProducerStatus } from '../../src/producer/status.js';
import { uniqueTopology } from '../integration/support/broker-objects.js';
import { useThrowawayBroker } from '../integration/support/throwaway.js';
import { mergeOptions } from '../support/merge-options.js';
import {
  type FaultScenario,
  faultProducer,
  faultSeed,
  pollUntil,
  runFault,
  SOAK,
  scenarioRandom,
} from './support/fault-run.js';

const seed = faultSeed('broker-kill');
const MESSAGES = SOAK ? 10_000 : 3_000;
/** Messages retrying when the node is killed: the size of the backlog the original report saw. */
const RETRYING = 200;
const node = useThrowawayBroker({ name: 'ferry-faults-kill' });

/**
 * A confirm timeout and a breaker cooldown short enough that a frozen node puts hundreds of messages
 * into retries and the breaker through several open / half-open rounds within seconds; the node takes
 * seconds to come back, so reconnecting never gives up.
 */
const OPTIONS = {
  publish: { confirmTimeoutMs: 2_000 },
  breaker: { cooldownMs: 1_000 },
  connection: { reconnect: { maxAttempts: 1_000 } },
};

/** See the file's comment for why not ferry's default quorum queue. */
const CLASSIC_QUEUE = { 'x-queue-type': 'classic' };

/** Recovered, and nothing stuck: no write waiting for a confirm, nothing retrying or parked, the breaker closed. */
function nothingStuck(status: ProducerStatus): boolean {
  const { messages } = status;
  return (
    status.connection.phase === 'connected' &&
    status.circuitBreaker.state === 'closed' &&
    messages.buffered === 0 &&
    messages.inFlight === 0 &&
    messages.retrying === 0 &&
    messages.parked === 0
  );
}

/** What a scenario does to the node, given its producer. */
type Fault = Pick<FaultScenario, 'inject' | 'healWhen' | 'heal'> &
  Partial<Pick<FaultScenario, 'perTick' | 'workDuringFault'>>;

/** One scenario on the file's node: its own topology and producer, scored by {@link runFault}. */
async function killScenario(scenario: string, fault: (producer: Producer) => Fault): Promise<void> {
  const broker = node.current();
  const names = uniqueTopology(`fault-${scenario}`, { queueArguments: CLASSIC_QUEUE });
  const run = faultProducer(
    mergeOptions(names.producerOptions, mergeOptions(OPTIONS, { connection: { url: broker.url }, seed })),
  );
  await runFault({
    scenario,
    run,
    names,
    brokerUrl: broker.url,
    random: scenarioRandom(seed, scenario),
    messages: MESSAGES,
    ...fault(run.producer),
    reconnects: true,
    recovered: nothingStuck,
    faultTimeoutMs: 60_000,
  });
}

/** Kills the node and starts it again on the same port and data. */
async function killAndRestart(): Promise<void> {
  const broker = node.current();
  await broker.kill();
  await broker.restart();
}

/** Every message written to the frozen node times out and takes the retry path. */
const FROZEN_WORK = 'confirm timeouts and retries of every message written to the frozen node';

describe(`broker killed with kill -9 (seed ${seed})`, () => {
  it('with hundreds of messages retrying: all confirmed after the restart, nothing stuck', async () => {
    await killScenario('kill-retrying', () => ({
      inject: () => node.current().freeze(),
      healWhen: (view) => view.producer.status().messages.retrying >= RETRYING,
      heal: killAndRestart,
      workDuringFault: FROZEN_WORK,
    }));
  }, 240_000);

  it('under heavy traffic with many messages in flight: republished after the restart, nothing stuck', async () => {
    await killScenario('kill-in-flight', () => ({
      // About 4,000 messages a second: the kill finds many written and unconfirmed.
      perTick: 20,
      inject: () => node.current().kill(),
      healWhen: (view) => view.phases.outage(view.injectedAt) !== undefined,
      heal: () => node.current().restart(),
    }));
  }, 240_000);

  it('while the breaker is half-open with its probe on the wire: the breaker closes again after the restart', async () => {
    await killScenario('kill-half-open', () => ({
      inject: () => node.current().freeze(),
      healWhen: (view) => {
        const status = view.producer.status();
        return status.circuitBreaker.state === 'halfOpen' && status.messages.retrying >= RETRYING;
      },
      heal: killAndRestart,
      workDuringFault: FROZEN_WORK,
    }));
  }, 240_000);

  it('killed again right after ferry reconnected: nothing stuck after the second restart', async () => {
    await killScenario('kill-twice', (producer) => ({
      inject: () => node.current().freeze(),
      healWhen: (view) => view.producer.status().messages.retrying >= RETRYING,
      heal: async () => {
        await killAndRestart();
        // The second kill lands while the backlog of the first is being republished.
        await pollUntil(
          () => producer.status().connection.phase === 'connected',
          60_000,
          () => JSON.stringify(producer.status()),
        );
        await killAndRestart();
      },
      workDuringFault: FROZEN_WORK,
    }));
  }, 240_000);
});
