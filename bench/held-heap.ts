/**
 * What ferry keeps on the V8 heap for each message it holds until its outcome, by kind of object. A
 * producer that is never started accepts 50,000 of the routed workload's messages (bench/workload.ts)
 * through `publishMany` and holds them all; the heap is measured after full collections before and
 * after, and a heap snapshot counts the objects that number at least one per held message. Every such
 * object is copied by each young-generation collection it lives through, and with `publish.maxInFlight`
 * messages written and unconfirmed (10,000 by default) that copying is most of what ferry's routed CPU
 * spends beyond amqplib's (see docs/benchmarks.md).
 *
 *   node --expose-gc --import tsx bench/held-heap.ts [--root <checkout>] [--messages 50000] [--traced]
 *
 * `--root` measures another checkout with this one's script, for a before/after. `--traced` registers
 * the traced bench client's tracer provider (bench/noop-tracing.ts): each held message then holds its
 * open span too. The bodies themselves
 * are off the heap (in slabs, see src/producer/publish-request.ts) and not counted; the message ids
 * are the caller's strings, which any client that keeps ids holds too.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '.' },
    messages: { type: 'string', default: '50000' },
    traced: { type: 'boolean', default: false },
  },
});
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc --import tsx');
const root = resolve(values.root);
const messages = Number(values.messages);
const BATCH = 1_000;

type Ferry = typeof import('../src/index.js');
type Workload = typeof import('./workload.js');
const { createProducer }: Ferry = await import(`${root}/src/index.ts`);
const { benchMessage }: Workload = await import(`${root}/bench/workload.ts`);
if (values.traced === true) {
  const { registerNoopTracing }: typeof import('./noop-tracing.js') = await import(
    `${root}/bench/noop-tracing.ts`
  );
  await registerNoopTracing();
}

// Nothing listens on port 1, and the producer is never started: every message stays held.
const producer = createProducer({
  connection: { url: 'amqp://guest:guest@127.0.0.1:1' },
  buffer: { maxMessages: messages + BATCH },
});
const batchOf = (run: string, first: number) =>
  Array.from({ length: BATCH }, (_, i) => {
    const { id, body } = benchMessage(run, first + i);
    return { exchange: 'bench', routingKey: 'bench', messageId: id, body: body as never };
  });

// A warm-up batch, so that what is allocated once (the deques' first growth, code) is not counted.
await producer.publishMany(batchOf('warm-up', 0));
gc();
gc();
const before = process.memoryUsage().heapUsed;
for (let first = 0; first < messages; first += BATCH) await producer.publishMany(batchOf('held', first));
gc();
gc();
const heldBytes = process.memoryUsage().heapUsed - before;

const folder = mkdtempSync(join(tmpdir(), 'ferry-held-heap-'));
const snapshot = JSON.parse(
  readFileSync(v8.writeHeapSnapshot(join(folder, 'held.heapsnapshot')), 'utf8'),
) as HeapSnapshot;
rmSync(folder, { recursive: true, force: true });
console.log(
  JSON.stringify({
    root,
    messages,
    traced: values.traced,
    heapBytesPerMessage: Math.round(heldBytes / messages),
    perMessage: objectsPerMessage(snapshot, messages),
  }),
);
process.exit(0);

interface HeapSnapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[]] } };
  readonly nodes: number[];
  readonly strings: string[];
}

/** Each kind of object with at least `messages` instances: how many per message, and their bytes. */
function objectsPerMessage(
  heap: HeapSnapshot,
  held: number,
): Record<string, { count: number; bytes: number }> {
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const [type, name, size] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [
    number,
    number,
    number,
  ];
  const kinds = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    const kind = `${types[heap.nodes[i + type] as number]} ${heap.strings[heap.nodes[i + name] as number]}`;
    const entry = kinds.get(kind) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += heap.nodes[i + size] as number;
    kinds.set(kind, entry);
  }
  const perMessage: Record<string, { count: number; bytes: number }> = {};
  for (const [kind, { count, bytes }] of kinds) {
    if (count < held) continue;
    perMessage[kind] = {
      count: Number((count / held).toFixed(2)),
      bytes: Math.round(bytes / held),
    };
  }
  return perMessage;
}
