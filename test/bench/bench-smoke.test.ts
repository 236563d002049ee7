/**
 * The side-by-side bench in its quick mode, for amqplib and ferry (both journals), on the shared
 * broker: the report has every run and row it should, every run that keeps its messages left exactly
 * N in the queue, and the bench's objects are gone afterwards. No wall-clock assertions: the machine is
 * shared, so only the structure and the counts are checked.
 */
import { connect } from 'amqplib';
import { expect, it } from 'vitest';
import { renderDocs } from '../../bench/docs.js';
import { runBench } from '../../bench/run.js';
import { bodyBytes } from '../../bench/workload.js';

const CLIENTS = ['amqplib', 'ferry-memory', 'ferry-sqlite'];
const VARIANTS = ['routed', 'client-bound', 'sequential', 'outstanding'] as const;
const ARGS = ['--quick', '--clients', CLIENTS.join(','), '--variants', VARIANTS.join(',')];

/** Whether `queue` exists on the shared broker (a 404 closes the channel, not the connection). */
async function queueExists(queue: string): Promise<boolean> {
  const model = await connect('amqp://guest:guest@127.0.0.1:5672');
  try {
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    return await channel.checkQueue(queue).then(
      () => true,
      () => false,
    );
  } finally {
    await model.close();
  }
}

it('runs the quick bench for amqplib and ferry and reports every run with exact queue counts', async () => {
  const report = await runBench(ARGS);

  expect(report.errors).toEqual([]);
  expect(report.settings).toMatchObject({ messages: 5_000, rounds: 1, bodyBytes: 1_024 });
  // Every message's JSON body has the advertised size, whatever the run id and the message number.
  for (const [run, n] of [
    ['a', 0],
    ['a-longer-run-id', 4_999],
    ['x', 999_999],
  ] as const) {
    expect(bodyBytes(run, n)).toBe(report.settings.bodyBytes);
  }
  expect(report.command).toBe(`npx tsx bench/run.ts ${ARGS.join(' ')}`);
  expect(report.load.before).toMatch(/load average/);
  expect(Object.keys(report.versions).sort()).toEqual(['amqplib', 'ferry']);

  // One run per variant and client, each with real measurements and no failed publish.
  expect(report.runs).toHaveLength(VARIANTS.length * CLIENTS.length);
  for (const variant of VARIANTS) {
    for (const client of CLIENTS) {
      const runs = report.runs.filter((run) => run.variant === variant && run.client === client);
      expect(runs, `${variant} ${client}`).toHaveLength(1);
      const [run] = runs;
      const messages = variant === 'sequential' ? report.settings.sequentialMessages : 5_000;
      const expected = variant === 'client-bound' ? 0 : messages;
      expect(run?.measurement.messages).toBe(messages);
      // Every run that routes to the kept queue left exactly N messages there; the void queue none.
      expect(run?.expectedCount).toBe(expected);
      expect(run?.queueCount, `${variant} ${client} queue count`).toBe(expected);
      expect(run?.measurement.failed).toBe(0);
      expect(run?.measurement.elapsedMs).toBeGreaterThan(0);
      expect(run?.measurement.cpuMicros).toBeGreaterThan(0);
      expect(run?.measurement.startRssKiB).toBeGreaterThan(0);
      // The peak cannot be below what the process held before it published.
      expect(run?.measurement.maxRssKiB).toBeGreaterThanOrEqual(run?.measurement.startRssKiB ?? Number.NaN);
    }
  }

  // The summary has a row per variant and client; the baseline's ratios are 1 by construction.
  expect(report.summary).toHaveLength(VARIANTS.length * CLIENTS.length);
  for (const row of report.summary) {
    expect(row.queueChecksPassed).toBe(true);
    expect(Number.isFinite(row.msgsPerSec)).toBe(true);
    if (row.client === 'amqplib') {
      expect(row.ratioToBaseline).toBe(1);
      expect(row.cpuRatioToBaseline).toBe(1);
    }
  }
  // Goals are judged where their runs took place; recovery did not run, and quick mode has too few
  // messages to judge the 50,000-outstanding goal.
  const goals = Object.fromEntries(report.goals.map((goal) => [goal.id, goal.met]));
  for (const id of ['routed-memory', 'routed-cpu', 'routed-sqlite', 'client-bound', 'sequential']) {
    expect(typeof goals[id], id).toBe('boolean');
  }
  expect(goals.recovery).toBeNull();
  expect(goals['outstanding-rss']).toBeNull();
  expect(goals['outstanding-rss-ratio']).toBeNull();

  const markdown = renderDocs(report);
  expect(markdown).toContain(`Command: \`${report.command}\``);
  expect(markdown).toContain('| client | msg/s | × amqplib |');

  // The bench deleted its objects.
  expect(await queueExists(report.objects.queue)).toBe(false);
  expect(await queueExists(report.objects.voidQueue)).toBe(false);
}, 300_000);
