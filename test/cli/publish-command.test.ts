/**
 * `ferry publish` end to end: one task, confirmed by the broker (exit 0, the message in its queue with the
 * printed id), or not confirmed in time (exit 1), or bad input (exit 2). Runs the real CLI entry point in
 * a child process against its own vhost, so the shared ML queues are untouched.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteJournal } from '../../src/journal/sqlite-journal.js';
import { createVhost } from '../celery/support.js';

const exec = promisify(execFile);
let vhost: Awaited<ReturnType<typeof createVhost>>;
beforeAll(async () => {
  vhost = await createVhost();
});
afterAll(async () => {
  await vhost.remove();
});

async function ferry(
  args: string[],
  url: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('npx', ['tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, RABBITMQ_URL: url, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('ferry publish', () => {
  it('exits 0 once the broker confirmed, and the task is in its queue under the printed id', async () => {
    const result = await ferry(['publish', 'summarize', 'share-cli', '--text', 'from the CLI'], vhost.url);
    expect(result.code, result.stderr).toBe(0);
    const { messageId, outcome } = JSON.parse(result.stdout) as { messageId: string; outcome: string };
    expect(outcome).toBe('confirmed');
    const connection = await amqp.connect(vhost.url);
    try {
      const channel = await connection.createChannel();
      const message = await channel.get('ml.summarize', { noAck: true });
      expect(message).not.toBe(false);
      if (message === false) return;
      expect(message.properties.messageId).toBe(messageId);
      expect(message.properties.headers?.task).toBe('llm_service.tasks.summarize_content');
    } finally {
      await connection.close();
    }
  });

  it('exits 1 when no broker confirms within the timeout', async () => {
    const result = await ferry(
      ['publish', 'summarize', 'share-cli', '--text', 'nobody home', '--timeout', '500'],
      'amqp://guest:guest@127.0.0.1:1',
    );
    expect(result.code).toBe(1);
    const { messageId } = JSON.parse(result.stdout) as { messageId: string };
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'timeout' });
    // Says what is known, and how to retry without a copy: never "nothing was kept".
    expect(result.stderr).toContain('it was not written to the broker yet');
    expect(result.stderr).toContain(`publish again with --task-id ${messageId}`);
  });

  it('publishes under the --task-id given, so that a retry is the same task', async () => {
    const result = await ferry(
      ['publish', 'embed', 'share-cli', '--text', 'again', '--task-id', 'cli-retry-1'],
      vhost.url,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ messageId: 'cli-retry-1', outcome: 'confirmed' });
  });

  it('does not take a service journal from FERRY_JOURNAL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-publish-'));
    const owner = new SqliteJournal({ path: join(dir, 'service.db') });
    await owner.open();
    try {
      const result = await ferry(['publish', 'embed', 'share-cli', '--text', 'own journal'], vhost.url, {
        FERRY_JOURNAL: `sqlite:${join(dir, 'service.db')}`,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(owner.pendingCount()).toBe(0);
    } finally {
      await owner.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says ACCESS_REFUSED at once for a wrong password, without waiting out its timeout', async () => {
    const started = Date.now();
    const result = await ferry(
      ['publish', 'embed', 'share-cli', '--text', 'x', '--timeout', '60000'],
      vhost.url.replace(/\/\/([^:]+):[^@]*@/, '//$1:wrong-password@'),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ACCESS_REFUSED');
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'refused', error: 'ACCESS_REFUSED' });
    expect(Date.now() - started).toBeLessThan(45_000);
  });

  for (const [name, args, message] of [
    ['a timeout that is not a number', ['--timeout', 'soon'], /--timeout.*whole number/],
    ['a negative timeout', ['--timeout', '-5'], /--timeout.*whole number/],
    ['both --text and --content', ['--content', '{"text":"y"}'], /--content.*cannot be used with.*--text/],
  ] as const) {
    it(`exits 2 for ${name}`, async () => {
      const result = await ferry(['publish', 'embed', 'share-cli', '--text', 'x', ...args], vhost.url);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    });
  }

  it('exits 2 on bad input, naming the field', async () => {
    const result = await ferry(['publish', 'summarize', 'share-cli', '--text', ''], vhost.url);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('text');
  });
});
