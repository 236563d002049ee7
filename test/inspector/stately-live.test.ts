/**
 * The Stately inspector end to end: a WebSocket server this test runs on 127.0.0.1 receives what a
 * producer's actor system sends through `ferry/inspector`: the supervisor, connection, breaker and a
 * message actor with their events, and never a message body or a password. After `stop()` a process
 * exits on its own (checked in a child process).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createProducer } from '../../src/index.js';
import { type StatelyInspector, startStatelyInspector } from '../../src/inspector/index.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { eventually, FAST } from '../producer/helpers.js';
import { FakeBroker } from '../support/fake-broker.js';
import { mergeOptions } from '../support/merge-options.js';

const PASSWORD = 'pw-never-sent-0b9e';
const BODY = 'body-never-sent-41f7';

let server: WebSocketServer | null = null;
let inspector: StatelyInspector | null = null;

afterEach(async () => {
  inspector?.stop();
  await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
});

it('sends every actor and its events to the server, without bodies or passwords', async () => {
  const frames: string[] = [];
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (socket) => socket.on('message', (data) => frames.push(String(data))));
  await new Promise((resolve) => server?.once('listening', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');

  inspector = await startStatelyInspector({ mode: 'ws', url: `ws://127.0.0.1:${address.port}` });
  const broker = new FakeBroker();
  const producer = createProducer(
    mergeOptions(FAST, { connection: { url: `amqp://ferry:${PASSWORD}@127.0.0.1:5672` } }),
    { broker, journal: new MemoryJournal(), inspect: inspector.inspect },
  );
  await producer.start();
  const receipt = await producer.publish({
    exchange: 'tasks',
    routingKey: 'k',
    body: { text: BODY },
    messageId: 'm-1',
    headers: { password: PASSWORD },
  });
  // Nacked once: the message leaves the healthy path and gets an actor of its own, then is confirmed.
  await eventually(() => broker.session.publishesOf('m-1').length === 1, 'the first publish');
  broker.session.nack(1);
  await eventually(() => broker.session.publishesOf('m-1').length === 2, 'the retry');
  broker.session.ack(2);
  await expect(receipt.settled).resolves.toBe('confirmed');
  await producer.close({ timeoutMs: 0 });

  const parsed = () =>
    frames.map((frame) => JSON.parse(frame) as { type: string; name?: string; event?: { type?: string } });
  await eventually(
    () => parsed().some((frame) => frame.type === '@xstate.actor' && frame.name?.startsWith('msg:') === true),
    'the message actor',
  );
  const actors = new Set(
    parsed()
      .filter((frame) => frame.type === '@xstate.actor')
      .map((frame) => frame.name),
  );
  for (const name of ['supervisor', 'connection', 'breaker', 'msg:m-1']) expect(actors).toContain(name);
  const events = new Set(
    parsed().flatMap((frame) => (frame.type === '@xstate.event' ? [frame.event?.type] : [])),
  );
  for (const type of [
    'supervisor.start',
    'connection.open',
    'message.retry',
    'message.ack',
    'supervisor.close',
  ]) {
    expect(events).toContain(type);
  }
  expect(parsed().some((frame) => frame.type === '@xstate.snapshot')).toBe(true);
  const everything = frames.join('\n');
  expect(everything).not.toContain(PASSWORD);
  expect(everything).not.toContain(BODY);
}, 30_000);

it('leaves nothing behind after stop(): the process exits on its own', async () => {
  const script = fileURLToPath(new URL('./fixtures/stop-exits.ts', import.meta.url));
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const result = await new Promise<{ code: number | null; stdout: string; killed: boolean }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script],
      { cwd: root, timeout: 15_000, killSignal: 'SIGKILL' },
      (error, stdout) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : null,
          stdout,
          killed: error?.killed === true,
        }),
    );
  });
  expect(result.stdout).toBe('stopped');
  expect(result.killed).toBe(false);
  expect(result.code).toBe(0);
}, 20_000);
