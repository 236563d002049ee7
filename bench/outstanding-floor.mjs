/**
 * The floor under the 50,000-outstanding goal: the outstanding variant's accept loop against a
 * stand-in producer that does the least any client must do to hold a message until its confirm (a
 * Buffer of its JSON body, a receipt with a lazily created `settled` promise), in a process that has
 * imported ferry and holds one broker connection, as the bench child does. No message is sent.
 * Prints the process's peak RSS (VmHWM) and the V8 heap spaces. With `--flush` the caller reads no
 * `settled` (it waits for all of them at once, as with ferry's `flush()`): no promise per message.
 *
 *   npm run build && node bench/outstanding-floor.mjs [--flush]
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { connect } from 'amqplib';

await import('../dist/src/index.js');
const connection = await connect('amqp://guest:guest@127.0.0.1:5672');
await connection.createConfirmChannel();

const MESSAGES = 50_000;
const BATCH = 1_000;
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

function publishMany(requests) {
  return Promise.resolve(
    requests.map((request) => {
      const text = JSON.stringify(request.body);
      const content = Buffer.allocUnsafe(Buffer.byteLength(text));
      content.write(text, 0, content.length, 'utf8');
      return new Receipt(request.messageId, content);
    }),
  );
}

const accepting = [];
for (let first = 0; first < MESSAGES; first += BATCH) {
  const requests = Array.from({ length: BATCH }, (_, i) => ({
    messageId: `m${first + i}`,
    body: { id: first + i, text: 'x'.repeat(990) },
  }));
  accepting.push(publishMany(requests));
}
const receipts = (await Promise.all(accepting)).flat();
if (process.argv.includes('--flush')) {
  for (const receipt of receipts) receipt.resolve?.('confirmed');
} else {
  const settling = receipts.map((receipt) => receipt.settled);
  for (const receipt of receipts) receipt.resolve('confirmed');
  await Promise.all(settling);
}
const spaces = Object.fromEntries(
  v8.getHeapSpaceStatistics().map((space) => [space.space_name, MiB(space.space_size)]),
);
console.log(JSON.stringify({ peakRssMiB: peakMiB(), heapSpacesMiB: spaces }));
await connection.close();
