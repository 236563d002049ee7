/**
 * The service log (pino): JSON lines with `time`, `level` as a word, `msg` and the component; no
 * password of a broker URL and no message body reaches the output, from a log call or from a running
 * service whose broker refuses its credentials.
 */
import { describe, expect, it, vi } from 'vitest';
import { startService } from '../../src/cli/serve-command.js';
import { componentLog, jsonLog } from '../../src/service/log.js';

const PASSWORD = 'hunter2-do-not-log';
const BODY = 'private task text';

function capture(): {
  lines: () => Record<string, unknown>[];
  text: () => string;
  write: (l: string) => void;
} {
  let text = '';
  return {
    write: (line) => {
      text += line;
    },
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('the service log', () => {
  it('writes JSON lines with the component, and redacts credentials and bodies', () => {
    const out = capture();
    const log = componentLog(jsonLog(out.write), 'producer');
    log('warn', 'publishing', {
      url: `amqp://guest:${PASSWORD}@127.0.0.1:5672`,
      password: PASSWORD,
      connect: { password: PASSWORD },
      message: { body: BODY, routingKey: 'ml.summarize' },
    });
    expect(out.text()).not.toContain(PASSWORD);
    expect(out.text()).not.toContain(BODY);
    const [line] = out.lines();
    expect(line).toMatchObject({
      level: 'warn',
      msg: 'publishing',
      component: 'producer',
      message: { routingKey: 'ml.summarize' },
    });
    expect(Number.isNaN(Date.parse(line?.time as string))).toBe(false);
  });

  it('adds the component to a plain function log too', () => {
    const seen: unknown[] = [];
    componentLog((level, msg, fields) => seen.push({ level, msg, ...fields }), 'http')('error', 'x', {
      a: 1,
    });
    expect(seen).toEqual([{ level: 'error', msg: 'x', component: 'http', a: 1 }]);
  });

  it('never shows the broker password when the broker refuses it', async () => {
    const out = capture();
    // The local broker turns the password down: a permanent error, logged with its message.
    const service = await startService(
      { PORT: '0', RABBITMQ_URL: `amqp://guest:${PASSWORD}@127.0.0.1:5672`, FERRY_JOURNAL: 'memory' },
      componentLog(jsonLog(out.write), 'service'),
    );
    try {
      await vi.waitFor(
        () => {
          if (!out.lines().some((l) => l.level === 'error' && l.component === 'producer'))
            throw new Error('the refused connect is not logged yet');
        },
        { timeout: 15_000 },
      );
    } finally {
      await service.shutdown();
    }
    expect(out.text()).toContain('127.0.0.1');
    expect(out.text()).not.toContain(PASSWORD);
  });

  for (const [name, url, code, words] of [
    [
      'nothing listens',
      'amqp://guest:guest@127.0.0.1:1',
      'CONNECTION_REFUSED',
      /nothing accepts connections/,
    ],
    [
      'a wrong password',
      `amqp://guest:${PASSWORD}@127.0.0.1:5672`,
      'ACCESS_REFUSED',
      /refused the user name or password/,
    ],
  ] as const) {
    it(`logs why the broker connection failed, in words: ${name}`, async () => {
      const out = capture();
      const service = await startService(
        { PORT: '0', RABBITMQ_URL: url, FERRY_JOURNAL: 'memory' },
        componentLog(jsonLog(out.write), 'service'),
      );
      try {
        await vi.waitFor(
          () => {
            const line = out.lines().find((l) => l.msg === 'state' && l.failure !== undefined);
            expect(line).toMatchObject({
              level: 'warn',
              failure: { code, reason: expect.stringMatching(words) },
            });
          },
          { timeout: 15_000 },
        );
      } finally {
        await service.shutdown();
      }
      expect(out.text()).not.toContain(PASSWORD);
    });
  }

  it("a component's line names that component only, however deep the logger it came from", () => {
    const lines: string[] = [];
    const service = componentLog(
      jsonLog((line) => lines.push(line)),
      'service',
    );
    componentLog(service, 'producer')('info', 'connected');
    const [line] = lines;
    expect(line).toBeDefined();
    expect(line!.match(/"component"/g)).toHaveLength(1);
    expect(JSON.parse(line!)).toMatchObject({ component: 'producer', msg: 'connected' });
  });
});
