/**
 * The clients the runner knows, by name. Each is loaded only in its own child process, so that one
 * client's modules never count towards another's memory.
 */
import type { ClientFactory } from './client.js';

/** What the runner needs to know about a client besides its adapter. */
export interface ClientInfo {
  /** The npm package whose version the report shows. */
  readonly packageName: string;
  /** Loads the adapter (in the child). */
  readonly load: () => Promise<ClientFactory>;
  /**
   * The client publishes with confirms. Without them (celery-node) the child times the run until the
   * queue holds every message instead, and the client-bound and sequential variants do not apply.
   */
  readonly confirms: boolean;
  /** The client reconnects after a closed connection, so it has a recovery run. */
  readonly recovers: boolean;
  /** Runs publish at most this many messages: the client is too slow for the full count. */
  readonly maxMessages?: number;
  /** A tuned configuration shown next to the defaults: it takes part in the throughput variants only. */
  readonly tuned?: boolean;
}

/**
 * With `FERRY_BENCH_BASE=<dir>`, a `ferry-base` client: `ferry-memory` as another checkout builds it,
 * for an A/B of a change within one run (the machine's load then weighs on both alike). Build the
 * other checkout (its `node_modules` linked) with
 * `npx tsx -e "import('./bench/build.ts').then((m) => m.buildChild('.', '.scratch/base'))"` there,
 * and pass `<that checkout>/.scratch/base`.
 */
function baseClient(dir: string | undefined): Record<string, ClientInfo> {
  if (dir === undefined) return {};
  const load = async (): Promise<ClientFactory> => {
    const module: { createMemoryClient: ClientFactory } = await import(`${dir}/bench/clients/ferry.js`);
    return module.createMemoryClient;
  };
  return { 'ferry-base': { packageName: 'ferry', load, confirms: true, recovers: true } };
}

/** Every client, in the order the report lists them; `amqplib` is the baseline. */
export const CLIENTS: Readonly<Record<string, ClientInfo>> = {
  amqplib: {
    packageName: 'amqplib',
    load: async () => (await import('./amqplib.js')).createClient,
    confirms: true,
    recovers: true,
  },
  'amqplib-mandatory': {
    packageName: 'amqplib',
    load: async () => (await import('./amqplib.js')).createMandatoryClient,
    confirms: true,
    recovers: true,
    tuned: true,
  },
  'amqplib-traced': {
    packageName: 'amqplib',
    load: async () => (await import('./amqplib-traced.js')).createTracedClient,
    confirms: true,
    recovers: true,
    tuned: true,
  },
  'ferry-memory': {
    packageName: 'ferry',
    load: async () => (await import('./ferry.js')).createMemoryClient,
    confirms: true,
    recovers: true,
  },
  'ferry-sqlite': {
    packageName: 'ferry',
    load: async () => (await import('./ferry.js')).createSqliteClient,
    confirms: true,
    recovers: true,
  },
  'ferry-memory-mandatory': {
    packageName: 'ferry',
    load: async () => (await import('./ferry.js')).createMandatoryClient,
    confirms: true,
    recovers: true,
    tuned: true,
  },
  'ferry-memory-receipts': {
    packageName: 'ferry',
    load: async () => (await import('./ferry.js')).createReceiptsClient,
    confirms: true,
    recovers: true,
    tuned: true,
  },
  'ferry-memory-stamped': {
    packageName: 'ferry',
    load: async () => (await import('./ferry.js')).createStampedClient,
    confirms: true,
    recovers: true,
    tuned: true,
  },
  'ferry-memory-traced': {
    packageName: 'ferry',
    load: async () => (await import('./ferry.js')).createTracedClient,
    confirms: true,
    recovers: true,
    tuned: true,
  },
  'ferry-memory-no-otel': {
    packageName: 'ferry',
    load: async () => {
      await (await import('./without-otel-api.js')).withoutOtelApi();
      return (await import('./ferry.js')).createMemoryClient;
    },
    confirms: true,
    recovers: true,
    tuned: true,
  },
  'ferry-memory-window-1k': {
    packageName: 'ferry',
    load: async () => (await import('./ferry.js')).createNarrowWindowClient,
    confirms: true,
    recovers: true,
    tuned: true,
  },
  'ferry-memory-ch1': {
    packageName: 'ferry',
    load: async () => (await import('./ferry.js')).createSpreadClient,
    confirms: true,
    recovers: true,
    tuned: true,
  },
  'ferry-memory-ch2': {
    packageName: 'ferry',
    load: async () => (await import('./ferry.js')).createTwoChannelClient,
    confirms: true,
    recovers: true,
    tuned: true,
  },
  'ferry-memory-ch4': {
    packageName: 'ferry',
    load: async () => (await import('./ferry.js')).createFourChannelClient,
    confirms: true,
    recovers: true,
    tuned: true,
  },
  'amqp-connection-manager': {
    packageName: 'amqp-connection-manager',
    load: async () => (await import('./amqp-connection-manager.js')).createClient,
    confirms: true,
    recovers: true,
  },
  'rabbitmq-client': {
    packageName: 'rabbitmq-client',
    load: async () => (await import('./rabbitmq-client.js')).createClient,
    confirms: true,
    recovers: true,
  },
  rascal: {
    packageName: 'rascal',
    load: async () => (await import('./rascal.js')).createClient,
    confirms: true,
    recovers: true,
    // One confirm at a time per pooled channel (5 by default): ≈500 msg/s here.
    maxMessages: 10_000,
  },
  '@cloudamqp/amqp-client': {
    packageName: '@cloudamqp/amqp-client',
    load: async () => (await import('./cloudamqp.js')).createClient,
    confirms: true,
    recovers: true,
  },
  'celery-node': {
    packageName: 'celery-node',
    load: async () => (await import('./celery-node.js')).createClient,
    confirms: false,
    recovers: false,
    // Three RPCs per message (it declares the exchange and the queue anew for each): ≈50 msg/s here.
    maxMessages: 2_000,
  },
  ...baseClient(process.env.FERRY_BENCH_BASE),
};

/** The baseline every ratio is taken against. */
export const BASELINE = 'amqplib';
