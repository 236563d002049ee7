/**
 * `ferry publish` end to end: one task, confirmed by the broker (exit 0, the message in its queue with the
 * printed id), or not confirmed in time (exit 1), or bad input (exit 2). Runs the real CLI entry point in
 * a child process against its own vhost, so the shared ML queues are untouched.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVhost } from '../celery/support.js';

const exec = promisify(execFile);
let vhost: Awaited<ReturnType<typeof createVhost>>;
beforeAll(async () => {
  vhost = await createVhost();
});
afterAll(async () => {
  await vhost.remove();
});

async function ferry(args: string[], url: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('npx', ['tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, RABBITMQ_URL: url },
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
    expect(JSON.parse(result.stdout)).toMatchObject({ outcome: 'timeout' });
  });

  it('exits 2 on bad input, naming the field', async () => {
    const result = await ferry(['publish', 'summarize', 'share-cli', '--text', ''], vhost.url);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('text');
  });
});
