/**
 * A real Prometheus (Debian's, on loopback) scrapes a running ferry service whose broker is unreachable
 * and evaluates the shipped alert rules: the connection alert must turn pending.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startService } from '../../src/cli/serve-command.js';
import type { Service } from '../../src/service/server.js';

const RULES = resolve('docs/operations/alerts.yml');

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface PromAlert {
  readonly labels: { readonly alertname: string };
  readonly state: 'pending' | 'firing';
}

describe('Prometheus scraping ferry', () => {
  it('sees the connection down and turns MLProducerConnectionUnhealthy pending', async () => {
    const service: Service & { port: number } = await startService(
      { PORT: '0', RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:1', FERRY_JOURNAL: 'memory' },
      () => undefined,
    );
    cleanups.push(() => service.shutdown());

    const dir = mkdtempSync(join(tmpdir(), 'ferry-prometheus-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${RULES}']`,
        'scrape_configs:',
        '  - job_name: ferry',
        `    static_configs: [{ targets: ['127.0.0.1:${service.port}'] }]`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const prometheus: ChildProcess = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    cleanups.push(
      () =>
        new Promise<void>((done) => {
          if (prometheus.exitCode !== null) return done();
          prometheus.once('exit', () => done());
          prometheus.kill('SIGTERM');
        }),
    );
    const api = async <T>(path: string): Promise<T> => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      const body = (await response.json()) as { status: string; data: T };
      expect(body.status).toBe('success');
      return body.data;
    };

    const state = await vi.waitFor(
      async () => {
        const data = await api<{ result: { value: [number, string] }[] }>(
          '/api/v1/query?query=ml_producer_connection_state',
        );
        const sample = data.result[0];
        if (sample === undefined) throw new Error('not scraped yet');
        return Number(sample.value[1]);
      },
      { timeout: 60_000, interval: 500 },
    );
    expect(state).not.toBe(3);

    const alert = await vi.waitFor(
      async () => {
        const { alerts } = await api<{ alerts: PromAlert[] }>('/api/v1/alerts');
        const down = alerts.find((a) => a.labels.alertname === 'MLProducerConnectionUnhealthy');
        if (down === undefined) throw new Error(`not pending yet: ${JSON.stringify(alerts)}`);
        return down;
      },
      { timeout: 60_000, interval: 500 },
    );
    expect(['pending', 'firing']).toContain(alert.state);
  }, 120_000);
});
