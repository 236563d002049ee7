/**
 * One trace from an HTTP request to the Celery worker: `ferry serve` (a child process, with the
 * standard OTEL_* variables) continues the request's `traceparent` in its SERVER span, publishes the
 * task in a PRODUCER span below it, exports both over OTLP/HTTP to a receiver on 127.0.0.1, and a stock
 * Celery worker sees ferry's PRODUCER span as the parent in `self.request.traceparent`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CeleryWorker, createVhost, startWorker } from '../celery/support.js';
import { attribute, type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const incomingTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
const incomingSpan = '00f067aa0ba902b7';

let vhost: Awaited<ReturnType<typeof createVhost>>;
let worker: CeleryWorker;
let receiver: OtlpReceiver;
let serve: ChildProcess;
let log = '';

/** Resolves with the first log line of `serve` that matches, failing after `timeoutMs`. */
function logLine(pattern: RegExp, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const line = log.split('\n').find((candidate) => pattern.test(candidate));
      if (line !== undefined) resolve(JSON.parse(line) as Record<string, unknown>);
      else if (Date.now() > deadline || serve.exitCode !== null)
        reject(new Error(`no ${pattern} in:\n${log}`));
      else setTimeout(check, 20);
    };
    check();
  });
}

beforeAll(async () => {
  vhost = await createVhost();
  [worker, receiver] = await Promise.all([startWorker(vhost.url), startOtlpReceiver()]);
  serve = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      RABBITMQ_URL: vhost.url,
      HOST: '127.0.0.1',
      PORT: '0',
      FERRY_JOURNAL: 'memory',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serve.stdout?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  serve.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  await logLine(/"msg":"connected"/);
}, 90_000);

afterAll(async () => {
  if (serve !== undefined && serve.exitCode === null) {
    const exited = new Promise((resolve) => serve.once('exit', resolve));
    serve.kill('SIGKILL');
    await exited;
  }
  await worker?.stop();
  await receiver?.close();
  await vhost?.remove();
});

it('the request’s trace runs through ferry’s spans into the Celery task', async () => {
  const { port } = await logLine(/"msg":"listening"/);
  const response = await fetch(`http://127.0.0.1:${String(port)}/api/shares/s-1/ml/summarize`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      traceparent: `00-${incomingTrace}-${incomingSpan}-01`,
    },
    body: JSON.stringify({ content: { text: 'Some text', title: 'T' } }),
  });
  expect(response.status).toBe(202);
  const { messageId } = (await response.json()) as { messageId: string };
  const task = await worker.waitForTask(messageId);

  await expect
    .poll(() => receiver.spans().map((span) => span.kind), { timeout: 10_000, interval: 50 })
    .toEqual(expect.arrayContaining([2, 4]));
  const server = receiver.spans().find((span) => span.kind === 2);
  const producer = receiver.spans().find((span) => span.kind === 4);
  expect(server).toMatchObject({
    traceId: incomingTrace,
    parentSpanId: incomingSpan,
    name: 'POST /api/shares/:shareId/ml/summarize',
    service: 'ferry',
  });
  expect(attribute(server?.attributes, 'http.response.status_code')).toBe(202);
  expect(producer).toMatchObject({
    traceId: incomingTrace,
    parentSpanId: server?.spanId,
    name: 'publish bookmarkai.ml:ml.summarize',
  });
  expect(attribute(producer?.attributes, 'messaging.message.id')).toBe(messageId);
  expect(attribute(producer?.attributes, 'ferry.outcome')).toBe('confirmed');
  // The worker continues ferry's span: same trace, ferry's PRODUCER span as the parent.
  expect(task.traceparent).toBe(`00-${incomingTrace}-${producer?.spanId}-01`);

  const exited = new Promise<number | null>((resolve) => serve.once('exit', resolve));
  serve.kill('SIGTERM');
  await expect(exited).resolves.toBe(0);
  expect(log).toContain('"msg":"stopped"');
}, 60_000);
