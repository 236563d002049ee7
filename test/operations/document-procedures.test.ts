/**
 * The original reliability document's three test procedures, run against `ferry serve` and a real
 * (throwaway) RabbitMQ node, as docs/operations/runbook.md gives them for a bare broker:
 * 1. the broker application stopped and started: the log shows each reconnect attempt with its
 *    jittered delay, and tasks posted during the outage are delivered after it;
 * 2. the binding removed with the document's own `rabbit_binding:remove(…)`, a task posted, the
 *    binding added back with `rabbit_binding:add(…)` (with the acting user RabbitMQ 3.8+ requires):
 *    the task is retried and delivered to ml.summarize;
 * 3. 10 consecutive failures (10 tasks posted while a policy makes ml.summarize reject every publish)
 *    open the breaker (seen in /api/ml/metrics/json); after the cooldown it is half-open, and the
 *    first success closes it.
 * The service's settings are the document's, but for a 3 s breaker cooldown and a 2 s first retry
 * delay, so that a slow `rabbitmqctl eval` cannot outlast the retries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withChannel } from '../integration/support/broker-objects.js';
import { startThrowawayBroker, type ThrowawayBroker } from '../support/throwaway-broker.js';
import { type LogLine, type ServiceProcess, startServiceProcess } from './support/service-process.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The binding the document breaks, as its `rabbitmqctl eval` names it. */
const BINDING = `{binding, {resource, <<"/">>, exchange, <<"bookmarkai.ml">>}, <<"ml.summarize">>, {resource, <<"/">>, queue, <<"ml.summarize">>}, []}`;
/**
 * The document's `rabbit_binding:add(Binding)` is undefined since RabbitMQ 3.8 (`undef`): `add` takes
 * the acting user as a second argument. `remove(Binding)` still works as the document writes it.
 */
const ADD_BINDING = `rabbit_binding:add(${BINDING}, <<"rmq-cli">>).`;
/** The policy that makes ml.summarize refuse every publish (RabbitMQ nacks them). */
const REJECT_ALL = '{"max-length":0,"overflow":"reject-publish"}';
const TASK = { content: { text: 'a page to summarize', title: 'a title' } };

let broker: ThrowawayBroker;
let service: ServiceProcess;
let temp = '';

beforeAll(async () => {
  temp = mkdtempSync(join(tmpdir(), 'ferry-procedures-'));
  broker = await startThrowawayBroker({ name: 'procedures' });
  // From the repository root, where `--import tsx` resolves; the journal is in the temporary folder.
  service = await startServiceProcess(['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      RABBITMQ_URL: broker.url,
      FERRY_JOURNAL: `sqlite:${join(temp, 'ferry.db')}`,
      ML_CIRCUIT_BREAKER_COOLDOWN: '3000',
      ML_MESSAGE_RETRY_BASE_DELAY: '2000',
    },
  });
  await service.until(
    async () => (await service.call('GET', '/health/ready')).status === 200,
    'readiness',
    60_000,
  );
}, 180_000);

afterAll(async () => {
  await service?.stop();
  await broker?.stop();
  if (temp !== '') rmSync(temp, { recursive: true, force: true });
});

/** Posts a summarize task; returns its message id. */
async function post(shareId: string): Promise<string> {
  const reply = await service.call('POST', `/api/shares/${shareId}/ml/summarize`, TASK);
  expect(reply.status, JSON.stringify(reply.json)).toBe(202);
  return (reply.json as { messageId: string }).messageId;
}

/** Takes every message out of ml.summarize; returns their message ids. */
function drainSummarize(): Promise<string[]> {
  return withChannel(broker.url, async (channel) => {
    const ids: string[] = [];
    for (;;) {
      const message = await channel.get('ml.summarize', { noAck: true });
      if (message === false) return ids;
      ids.push(String(message.properties.messageId));
    }
  });
}

/** Waits until every id in `ids` has been taken out of ml.summarize. */
async function deliveredToSummarize(ids: readonly string[]): Promise<void> {
  const seen = new Set<string>();
  await service.until(
    async () => {
      for (const id of await drainSummarize()) seen.add(id);
      return ids.every((id) => seen.has(id));
    },
    `${ids.join(', ')} in ml.summarize`,
    60_000,
  );
}

const linesOf = (event: string, from = 0): LogLine[] =>
  service.lines.slice(from).filter((line) => line.event === event);

async function breakerState(): Promise<string> {
  const reply = await service.call('GET', '/api/ml/metrics/json');
  return (reply.json as { circuitBreaker: { state: string } }).circuitBreaker.state;
}

describe("the original document's test procedures", () => {
  it("0. with RABBITMQ_HEARTBEAT unset, the broker shows the document's 60 s heartbeat on ferry's connection", async () => {
    const connections = await broker.ctl('list_connections', 'client_properties', 'timeout');
    const ferry = connections.split('\n').filter((line) => line.includes('ferry'));
    expect(ferry.length).toBeGreaterThan(0);
    for (const line of ferry) expect(line.trim().split('\t').at(-1)).toBe('60');
  });

  it('1. connection resilience: each reconnect attempt logged with its jittered delay; tasks posted meanwhile delivered', async () => {
    const from = service.lines.length;
    await broker.ctl('stop_app');
    await service.until(
      () => linesOf('connection.retry-scheduled', from).length >= 3,
      'three reconnect attempts',
    );
    const during = [await post('outage-1'), await post('outage-2'), await post('outage-3')];
    await broker.ctl('start_app');
    await deliveredToSummarize(during);

    const attempts = linesOf('connection.retry-scheduled', from);
    expect(attempts.map((line) => line.attempt).slice(0, 3)).toEqual([1, 2, 3]);
    for (const line of attempts) {
      // The default policy: 500 ms doubling, plus 0-30 % jitter on top, the error named.
      const base = 500 * 2 ** (Number(line.attempt) - 1);
      expect(Number(line.delayMs) - Number(line.jitterMs)).toBe(Math.min(base, 32_000));
      expect(Number(line.jitterMs)).toBeGreaterThanOrEqual(0);
      expect(Number(line.jitterMs)).toBeLessThanOrEqual(Math.round(base * 0.3));
      expect(line.reason).toEqual(expect.any(String));
    }
    expect(linesOf('connection.changed', from).at(-1)).toMatchObject({ to: 'connected' });
  });

  it('2. message retry: the binding removed, a task posted and retried, the binding added back, the task delivered', async () => {
    const from = service.lines.length;
    await broker.ctl('eval', `rabbit_binding:remove(${BINDING}).`);
    const id = await post('retry-1');
    await service.until(
      () => linesOf('message.retry-scheduled', from).some((line) => line.messageId === id),
      'the retry of the task',
    );
    await broker.ctl('eval', ADD_BINDING);
    await deliveredToSummarize([id]);

    expect(linesOf('message.retry-scheduled', from).find((line) => line.messageId === id)).toMatchObject({
      attempt: 2,
      delayMs: expect.any(Number),
      reason: 'RETURNED',
    });
    expect(linesOf('message.dead-lettered', from)).toEqual([]);
  });

  it('3. circuit breaker: open after 10 consecutive failures, half-open after the cooldown, closed after a success', async () => {
    const from = service.lines.length;
    expect(await breakerState()).toBe('closed');
    // A full queue that rejects publishes: every publish is nacked until the policy is cleared. (A
    // removed binding is no good here: ferry declares its topology again after a return.)
    await broker.ctl('set_policy', 'reject-all', '^ml[.]summarize$', REJECT_ALL, '--apply-to', 'queues');
    await service.until(
      async () => /ml\.summarize\treject-all/.test(await broker.ctl('list_queues', 'name', 'policy')),
      'the policy applied',
    );
    const ids: string[] = [];
    for (let n = 0; n < 10; n += 1) ids.push(await post(`breaker-${n}`));
    await service.until(
      async () => (await breakerState()) === 'open',
      'the breaker open in /api/ml/metrics/json',
    );
    const opened = linesOf('breaker.changed', from).find((line) => line.to === 'open');
    expect(opened).toMatchObject({ consecutiveFailures: 10, reason: 'NACKED' });

    await broker.ctl('clear_policy', 'reject-all');
    // A quorum queue's publishing channel remembers "reject" until the queue says otherwise, which an
    // empty queue whose limit went away never does: a new connection starts without it.
    await broker.ctl('close_all_connections', 'policy cleared');
    await service.until(async () => (await breakerState()) === 'closed', 'the breaker closed again', 60_000);
    const changes = linesOf('breaker.changed', from);
    expect(changes.map((line) => `${line.from}->${line.to}`)).toEqual(
      expect.arrayContaining(['closed->open', 'open->halfOpen', 'halfOpen->closed']),
    );
    expect(changes[0]).toMatchObject({ from: 'closed', to: 'open' });
    expect(changes.at(-1)).toMatchObject({ from: 'halfOpen', to: 'closed' });
    // Half-open only after the cooldown (3 s here) has passed since it opened.
    const halfOpen = changes.find((line) => line.to === 'halfOpen');
    expect(Date.parse(String(halfOpen?.time)) - Date.parse(String(changes[0]?.time))).toBeGreaterThanOrEqual(
      2_950,
    );
    // Each probe while the queue still refused used up an attempt: every task is in ml.summarize or,
    // its attempts spent, dead-lettered with its reason; none is lost.
    const deadLettered = linesOf('message.dead-lettered', from).map((line) => String(line.messageId));
    await deliveredToSummarize(ids.filter((id) => !deadLettered.includes(id)));
  }, 150_000);
});
