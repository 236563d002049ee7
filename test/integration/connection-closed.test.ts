/**
 * An administrator closes every connection (`rabbitmqctl close_all_connections`) in the middle of a
 * steady stream: ferry reconnects, republishes what was unconfirmed, and every accepted message ends
 * up in the queue. Duplicates are possible only for messages that were unconfirmed at the close.
 */
import { it } from 'vitest';
import { surviveFault } from './support/stream.js';
import { useThrowawayBroker } from './support/throwaway.js';

const node = useThrowawayBroker({ name: 'ferry-it-connection-closed' });

it('reconnects after close_all_connections mid-stream and loses nothing', async () => {
  const broker = node.current();
  await surviveFault('connection-closed', broker, async () => {
    await broker.ctl('close_all_connections', 'ferry integration test');
  });
}, 120_000);
