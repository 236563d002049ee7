/**
 * The shipped alert rules are valid and each alert has a unit test that passes, checked with promtool
 * (Debian package `prometheus`; CI installs it through scripts/ensure-services.sh).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const RULES = 'docs/operations/alerts.yml';
const RULE_TESTS = 'docs/operations/alerts.test.yml';
const PROMETHEUS_CONFIG = 'deploy/prometheus/prometheus.yml';

/** Runs promtool in the repository root; a missing promtool fails the test with what to install. */
function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  if (run.error !== undefined) {
    throw new Error(
      `promtool could not run (${run.error.message}): install it with \`apt-get install -y prometheus\` ` +
        '(or `scripts/ensure-services.sh prometheus`)',
    );
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** The rules of alerts.yml, one block of lines per `- alert:` entry. */
function ruleBlocks(): { name: string; text: string }[] {
  const text = readFileSync(`${root}${RULES}`, 'utf8');
  return text
    .split(/^\s*- alert: /m)
    .slice(1)
    .map((block) => ({ name: (block.split('\n')[0] ?? '').trim(), text: block }));
}

describe('docs/operations/alerts.yml', () => {
  it('passes promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', RULES);
    expect(output).toContain('SUCCESS');
    expect(status, output).toBe(0);
  });

  it('passes its unit tests (promtool test rules)', () => {
    const { status, output } = promtool('test', 'rules', RULE_TESTS);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it("has the original document's group and three alerts exactly, and ferry's alerts in a group of their own", () => {
    const rules = readFileSync(`${root}${RULES}`, 'utf8');
    const groups = [...rules.matchAll(/^ {2}- name: (\S+)$/gm)].map((match) => match[1]);
    expect(groups).toEqual(['ml_producer_reliability', 'ferry_operations']);
    const original = rules.slice(0, rules.indexOf('- name: ferry_operations'));
    // Each original rule as its document gives it: name, expression, `for` and summary, in order.
    const expected = [
      [
        'MLProducerHighRetryQueueSize',
        'ml_producer_retry_queue_size > 100',
        '5m',
        'High number of messages in retry queue',
      ],
      [
        'MLProducerCircuitBreakerOpen',
        'ml_producer_circuit_breaker_open == 1',
        '1m',
        'ML Producer circuit breaker is open',
      ],
      [
        'MLProducerConnectionUnhealthy',
        'ml_producer_connection_state != 3',
        '2m',
        'ML Producer not connected to RabbitMQ',
      ],
    ];
    const found = [
      ...original.matchAll(/- alert: (\w+)\n\s+expr: (.+)\n\s+for: (\w+)\n[\s\S]*?summary: "([^"]+)"/g),
    ].map(([, name, expr, duration, summary]) => [name, expr?.replace(/\s*#.*$/, ''), duration, summary]);
    expect(found).toEqual(expected);
    const operations = ruleBlocks()
      .map((rule) => rule.name)
      .filter((name) => !expected.some(([original]) => original === name));
    expect(operations).toEqual([
      'MLProducerParkedMessages',
      'MLProducerDeadLettersGrowing',
      'MLProducerJournalBacklog',
      'MLProducerConnectionBlocked',
      'MLProducerConfirmTimeouts',
    ]);
    for (const rule of ruleBlocks()) {
      expect(rule.text, rule.name).toMatch(/^\s+severity: (critical|warning)$/m);
      expect(rule.text, rule.name).toMatch(/^\s+summary: \S/m);
      expect(rule.text, rule.name).toMatch(/^\s+description: \S/m);
    }
  });

  it('has a unit test that expects every alert to fire', () => {
    const tests = readFileSync(`${root}${RULE_TESTS}`, 'utf8');
    // An alert is tested when some eval of it expects alerts (a non-empty exp_alerts list).
    const firing = new Set(
      [...tests.matchAll(/alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels/g)].map((match) => match[1]),
    );
    for (const { name } of ruleBlocks()) expect(firing.has(name), `${name} has no firing test`).toBe(true);
  });
});

describe('deploy/prometheus/prometheus.yml', () => {
  it('passes promtool check config and scrapes ferry and RabbitMQ', () => {
    const { status, output } = promtool('check', 'config', PROMETHEUS_CONFIG);
    expect(status, output).toBe(0);
    const config = readFileSync(`${root}${PROMETHEUS_CONFIG}`, 'utf8');
    expect(config).toContain('"ferry:3001"');
    expect(config).toContain('"ml-rabbitmq:15692"');
  });
});
