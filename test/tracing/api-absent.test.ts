/**
 * `@opentelemetry/api` is an optional peer dependency: without it nothing is loaded and nothing changes.
 * Each run is a child process, so that this worker's own module cache says nothing about it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

interface Run {
  readonly loaded: number;
  readonly outcome: string;
  readonly headers: Readonly<Record<string, unknown>>;
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function publishOne(preload: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...preload, '--import', 'tsx', fixture('publish-one.ts')],
      { cwd: root, timeout: 30_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as Run);
      },
    );
  });
}

const given = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };

it('without the API installed, nothing of OpenTelemetry is loaded and the message is as given', async () => {
  const run = await publishOne(['--import', fixture('hide-otel-api.mjs')]);
  expect(run).toEqual({ loaded: 0, outcome: 'confirmed', headers: given });
}, 40_000);

it('with the API but no tracer provider, the API is loaded and the message is as given', async () => {
  const run = await publishOne([]);
  // The same check sees the API when it is there: the run above could have failed.
  expect(run.loaded).toBeGreaterThan(0);
  expect(run).toMatchObject({ outcome: 'confirmed', headers: given });
}, 40_000);
