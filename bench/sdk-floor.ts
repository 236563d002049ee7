/**
 * What the OpenTelemetry SDK alone costs per publish span, with no producer around it: the traced
 * bench client's tracer provider (bench/noop-tracing.ts), spans started as ferry starts them (its
 * destination's shared starting attributes, then the message's id and size), `--lag` of them open
 * at once, each ended after `ferry.outcome` is set, as a confirm ends it. The floor under what
 * `bench/own-cpu.ts --traced` adds to ferry's CPU per message: the difference is ferry's own part of
 * tracing (the headers, its bookkeeping), the rest the SDK's and the collection of its open spans.
 *
 *   npx tsx bench/sdk-floor.ts [--messages 200000] [--rounds 5] [--lag 10000]
 *
 * Prints one JSON line per measured round (after a warm-up of 20,000 spans): user + system CPU µs per
 * span.
 */
import { parseArgs } from 'node:util';
import type { Span } from '@opentelemetry/api';
import { DestinationTemplates } from '../src/tracing/destination-attributes.js';
import { ATTR, FERRY_ATTR } from '../src/tracing/semconv.js';
import { registerNoopTracing } from './noop-tracing.js';
import { benchMessage } from './workload.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '5' },
    lag: { type: 'string', default: '10000' },
  },
});
const messages = Number(values.messages);
const lag = Number(values.lag);

await registerNoopTracing();
const { ROOT_CONTEXT, SpanKind, trace } = await import('@opentelemetry/api');
const tracer = trace.getTracer('ferry');
const template = new DestinationTemplates(() => 'amqp://127.0.0.1:5672').of('bench', 'bench');
const options = { kind: SpanKind.PRODUCER, attributes: template.spanAttributes };
// The workload's ids and sizes, made before the clock starts: a run reuses them in turn.
const workload = Array.from({ length: 1_000 }, (_, n) => {
  const { id, body } = benchMessage('floor', n);
  return { id, bytes: Buffer.byteLength(JSON.stringify(body)) };
});
const open: (Span | undefined)[] = new Array(lag);

function run(count: number): void {
  for (let n = 0; n < count; n += 1) {
    const message = workload[n % workload.length] as { id: string; bytes: number };
    const span = tracer.startSpan(template.spanName, options, ROOT_CONTEXT);
    span.setAttribute(ATTR.messageId, message.id);
    span.setAttribute(ATTR.bodySize, message.bytes);
    const slot = n % lag;
    const confirmed = open[slot];
    if (confirmed !== undefined) {
      confirmed.setAttribute(FERRY_ATTR.outcome, 'confirmed');
      confirmed.end();
    }
    open[slot] = span;
  }
}

run(20_000);
for (let round = 1; round <= Number(values.rounds); round += 1) {
  const before = process.cpuUsage();
  run(messages);
  const used = process.cpuUsage(before);
  const cpuMicrosPerSpan = Number(((used.user + used.system) / messages).toFixed(2));
  process.stdout.write(`${JSON.stringify({ round, messages, lag, cpuMicrosPerSpan })}\n`);
}
