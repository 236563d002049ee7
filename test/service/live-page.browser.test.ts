/**
 * The live state page in a real browser (headless Chromium through playwright-core), against a
 * throwaway RabbitMQ node: the page shows the connection `connected`, follows it through the
 * reconnect that `rabbitmqctl close_all_connections` forces, back to `connected`, and loads nothing
 * but the service's own two URLs.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startService } from '../../src/cli/serve-command.js';
import type { Service } from '../../src/service/server.js';
import { startThrowawayBroker, type ThrowawayBroker } from '../support/throwaway-broker.js';

const CHROMIUM = '/usr/bin/chromium';
const WAIT_MS = 30_000;

let broker: ThrowawayBroker | undefined;
let service: Service | undefined;
let browser: Browser | undefined;
let shots: string | undefined;

beforeAll(async () => {
  broker = await startThrowawayBroker({ name: 'ferry-live-page' });
  shots = await mkdtemp(join(tmpdir(), 'ferry-live-page-'));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await service?.shutdown();
  await broker?.stop();
  if (shots !== undefined) await rm(shots, { recursive: true, force: true });
}, 60_000);

/** Page-side expressions (strings: the project's types have no DOM). */
const PHASE = "document.getElementById('connection').dataset.value";
/**
 * Records every phase `#connection` shows from now on in `window.phases`, even one that lasts a
 * single frame, which polling could miss.
 */
const RECORD_PHASES = `(() => {
  const element = document.getElementById('connection');
  window.phases = [];
  new MutationObserver(() => window.phases.push(element.dataset.value)).observe(element, {
    attributes: true,
    attributeFilter: ['data-value'],
  });
})()`;

it('follows the connection through a forced reconnect, live', async () => {
  const node = broker as ThrowawayBroker;
  const started = await startService(
    { PORT: '0', RABBITMQ_URL: node.url, FERRY_JOURNAL: 'memory' },
    () => undefined,
  );
  service = started;
  const base = `http://127.0.0.1:${started.port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = await browser.newPage();
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  await page.goto(`${base}/`);

  const connection = page.locator('#connection');
  await page.waitForFunction(`${PHASE} === 'connected'`, undefined, { timeout: WAIT_MS });
  expect(await page.locator('#breaker').textContent()).toBe('closed');
  expect(await page.locator('#gate').textContent()).toBe('open');
  expect(await page.locator('#stream').textContent()).toBe('live');
  const actors = await page.locator('#actors tr td:first-child').allTextContents();
  expect(actors).toEqual(expect.arrayContaining(['supervisor', 'connection', 'breaker']));

  await page.evaluate(RECORD_PHASES);
  await node.ctl('close_all_connections', 'ferry live page test');
  await page.waitForFunction(
    "window.phases.some((phase) => phase === 'reconnecting' || phase === 'connecting')",
    undefined,
    { timeout: WAIT_MS },
  );
  await page.waitForFunction("window.phases.length > 1 && window.phases.at(-1) === 'connected'", undefined, {
    timeout: WAIT_MS,
  });
  expect(await connection.textContent()).toBe('connected');
  expect(await page.locator('#m-retrying').textContent()).toBe('0');

  const shot = join(shots as string, 'live-page.png');
  await page.screenshot({ path: shot, fullPage: true });
  expect((await stat(shot)).size).toBeGreaterThan(0);

  const origins = new Set(requested.map((url) => new URL(url).origin));
  expect([...origins]).toEqual([base]);
  expect(new Set(requested.map((url) => new URL(url).pathname))).toEqual(new Set(['/', '/events']));
}, 120_000);
