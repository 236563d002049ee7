/**
 * The floor under the 50,000-outstanding goal, and where ferry stands on it. The outstanding
 * variant's accept loop (every batch issued before any is awaited) runs in a process that has
 * imported ferry and holds one broker connection, as the bench child does, against:
 *
 * - (default) a stand-in producer that does the least any client must do to hold a message until its
 *   confirm: a Buffer of its JSON body and a receipt whose `settled` promise the caller reads;
 * - `--flush`: the same stand-in, the caller reading no `settled` (it waits for all of them at once,
 *   as with ferry's `flush()`): no promise per message;
 * - `--ferry`: ferry's producer, never started: it holds every message as in the outstanding variant
 *   and sends none, so the difference to `--flush` is what ferry holds;
 * - `--ferry-sent`: ferry's producer, started, sending to a queue of its own and waiting with
 *   `flush()`, so the difference to `--ferry` is what sending adds. Off-heap memory
 *   (`process.memoryUsage().arrayBuffers`) is sampled every 10 ms and its peak printed.
 *
 * Prints the process's peak RSS (VmHWM) and the V8 heap spaces.
 *
 *   npm run build && node bench/outstanding-floor.mjs [--flush | --ferry | --ferry-sent]
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { connect } from 'amqplib';

const URL = 'amqp://guest:guest@127.0.0.1:5672';
const { createProducer } = await import('../dist/src/index.js');
const connection = await connect(URL);
const channel = await connection.createConfirmChannel();

const MESSAGES = 50_000;
const BATCH = 1_000;
const mode = ['--flush', '--ferry', '--ferry-sent'].find((flag) => process.argv.includes(flag)) ?? 'receipts';
const MiB = (bytes) => Number((bytes / 2 ** 20).toFixed(1));
const peakMiB = () =>
  Number((Number(readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/)?.[1]) / 1_024).toFixed(1));

class Receipt {
  constructor(messageId, content) {
    this.messageId = messageId;
    this.content = content;
    this.resolve = undefined;
    this.promise = undefined;
  }
  get settled() {
    this.promise ??= new Promise((resolve) => {
      this.resolve = resolve;
    });
    return this.promise;
  }
}

function standInPublishMany(requests) {
  return Promise.resolve(
    requests.map((request) => {
      const text = JSON.stringify(request.body);
      const content = Buffer.allocUnsafe(Buffer.byteLength(text));
      content.write(text, 0, content.length, 'utf8');
      return new Receipt(request.messageId, content);
    }),
  );
}

/** A queue of this run's own on the default exchange, for `--ferry-sent`. */
const queue = `ferry-outstanding-floor-${process.pid}`;
let producer;
let publishMany = standInPublishMany;
if (mode === '--ferry' || mode === '--ferry-sent') {
  const sending = mode === '--ferry-sent';
  if (sending) await channel.assertQueue(queue, { durable: true });
  producer = createProducer({
    // Never started without `--ferry-sent`: port 1 makes sure nothing is sent by accident.
    connection: { url: sending ? URL : 'amqp://guest:guest@127.0.0.1:1' },
    topology: { declare: false },
    journal: { kind: 'memory' },
  });
  if (sending) await producer.start();
  publishMany = (requests) =>
    producer.publishMany(requests.map((request) => ({ exchange: '', routingKey: queue, ...request })));
}

let peakArrayBuffers = 0;
const sample = () => {
  peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers);
};
const sampler = setInterval(sample, 10);

const accepting = [];
for (let first = 0; first < MESSAGES; first += BATCH) {
  const requests = Array.from({ length: BATCH }, (_, i) => ({
    messageId: `m${first + i}`,
    body: { id: first + i, text: 'x'.repeat(990) },
  }));
  accepting.push(publishMany(requests));
}
const receipts = (await Promise.all(accepting)).flat();
if (mode === '--ferry-sent') {
  if (!(await producer.flush({ timeoutMs: 60_000 })))
    throw new Error('not every message was confirmed in 60 s');
} else if (mode === '--ferry') {
  // Nothing settles: the messages stay held until the process exits.
} else if (mode === '--flush') {
  for (const receipt of receipts) receipt.resolve?.('confirmed');
} else {
  const settling = receipts.map((receipt) => receipt.settled);
  for (const receipt of receipts) receipt.resolve('confirmed');
  await Promise.all(settling);
}
clearInterval(sampler);
sample();
const spaces = Object.fromEntries(
  v8.getHeapSpaceStatistics().map((space) => [space.space_name, MiB(space.space_size)]),
);
console.log(
  JSON.stringify({
    mode,
    peakRssMiB: peakMiB(),
    peakArrayBuffersMiB: MiB(peakArrayBuffers),
    heapSpacesMiB: spaces,
  }),
);
await producer?.close({ timeoutMs: 0 }).catch(() => undefined);
if (mode === '--ferry-sent') await channel.deleteQueue(queue);
await connection.close();
