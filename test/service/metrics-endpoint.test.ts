/**
 * `GET /metrics` on the service as `ferry serve` builds it: the values move with the broker — away (the
 * connection state leaves 3 and tasks wait in the buffer), then present (3, and the tasks confirmed).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startService } from '../../src/cli/serve-command.js';
import type { Service } from '../../src/service/server.js';

const services: Service[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.shutdown();
});

const quiet = (): void => undefined;

async function serve(url: string) {
  const service = await startService(
    {
      PORT: '0',
      RABBITMQ_URL: url,
      FERRY_JOURNAL: 'memory',
      ML_MESSAGE_RETRY_BASE_DELAY: '20',
      ML_MESSAGE_RETRY_MAX_DELAY: '50',
    },
    quiet,
  );
  services.push(service);
  const base = `http://127.0.0.1:${service.port}`;
  const metric = async (name: string): Promise<number> => {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const line = (await response.text()).split('\n').find((l) => l.startsWith(`${name} `));
    if (line === undefined) throw new Error(`${name} is not exported`);
    return Number(line.slice(name.length + 1));
  };
  const summarize = (shareId: string) =>
    fetch(`${base}/api/shares/${shareId}/ml/summarize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: { text: 'metrics test' } }),
    });
  return { metric, summarize };
}

describe('GET /metrics', () => {
  it('with the broker unreachable: connection state is not 3 and accepted tasks are buffered', async () => {
    const { metric, summarize } = await serve('amqp://guest:guest@127.0.0.1:1');
    expect((await summarize('share-down')).status).toBe(202);
    await vi.waitFor(async () => expect(await metric('ml_producer_connection_state')).not.toBe(3));
    expect(await metric('ml_producer_buffered_messages')).toBe(1);
    expect(await metric('ml_producer_healthy')).toBe(0);
  });

  it('with the broker up: connection state 3 and the task confirmed', async () => {
    const { metric, summarize } = await serve('amqp://guest:guest@127.0.0.1:5672');
    await vi.waitFor(async () => expect(await metric('ml_producer_connection_state')).toBe(3), {
      timeout: 15_000,
    });
    expect((await summarize('share-up')).status).toBe(202);
    await vi.waitFor(async () => expect(await metric('ml_producer_in_flight_messages')).toBe(0), {
      timeout: 15_000,
    });
    expect(await metric('ml_producer_buffered_messages')).toBe(0);
  });
});
