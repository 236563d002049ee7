/**
 * A relay process for the outbox crash test, run with `node --import tsx`: a producer on the postgres
 * journal (settings as JSON in `FERRY_RELAY_CHILD`) that publishes whatever the outbox holds until the
 * parent sends `stop` or SIGKILLs it.
 */
import { buildTopology, type TopologyOptions } from '../../src/amqp/topology.js';
import { createProducer } from '../../src/producer/producer.js';

/** What the parent asks for. */
export interface RelaySettings {
  readonly brokerUrl: string;
  readonly databaseUrl: string;
  readonly relayId: string;
  readonly leaseMs: number;
  readonly topology: TopologyOptions;
}

const settings = JSON.parse(process.env.FERRY_RELAY_CHILD ?? '{}') as RelaySettings;

async function main(): Promise<void> {
  const relay = createProducer({
    journal: {
      kind: 'postgres',
      url: settings.databaseUrl,
      relayId: settings.relayId,
      leaseMs: settings.leaseMs,
      pollMs: 200,
    },
    connection: { url: settings.brokerUrl, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } },
    topology: { declare: buildTopology(settings.topology) },
    retry: { initialDelayMs: 20, maxDelayMs: 200 },
  });
  await relay.start();
  process.send?.('started');
  process.on('message', (message) => {
    if (message !== 'stop') return;
    relay
      .close({ timeoutMs: 5_000 })
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
