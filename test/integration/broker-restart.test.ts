/**
 * The broker goes away mid-stream and comes back: `rabbitmqctl stop_app` / `start_app`, then a
 * `kill -9` of the node and a restart on the same data. ferry buffers what is accepted meanwhile,
 * reconnects, republishes what was unconfirmed, and nothing accepted is lost. The queue is a durable
 * quorum queue (ferry's default arguments) and messages are persistent, so what was confirmed before
 * the fault survives it.
 */
import { it } from 'vitest';
import { surviveFault } from './support/stream.js';
import { useThrowawayBroker } from './support/throwaway.js';

const node = useThrowawayBroker({ name: 'ferry-it-broker-restart' });
/** The node takes seconds to come back; the attempt budget (and `failed`) is not what this is about. */
const PATIENT = { connection: { reconnect: { maxAttempts: 1_000 } } };

it('survives stop_app / start_app mid-stream', async () => {
  const broker = node.current();
  await surviveFault(
    'stop-app',
    broker,
    async () => {
      await broker.ctl('stop_app');
      await broker.ctl('start_app');
    },
    PATIENT,
  );
}, 120_000);

it('survives kill -9 of the node and a restart on the same data', async () => {
  const broker = node.current();
  await surviveFault(
    'kill-restart',
    broker,
    async () => {
      await broker.kill();
      await broker.restart();
    },
    PATIENT,
  );
}, 150_000);
