import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateTestCertificates,
  isOpensslAvailable,
  isProcessRunning,
  startThrowawayBroker,
  type TestCertificates,
  type ThrowawayBroker,
} from './throwaway-broker.js';

/** Resolves whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves with the error an AMQP connection attempt fails with, or closes the connection and resolves undefined. */
async function connectError(url: string, options: object = {}): Promise<Error | undefined> {
  try {
    const connection = await amqp.connect(url, options);
    await connection.close();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

describe('startThrowawayBroker', () => {
  let broker: ThrowawayBroker;

  beforeAll(async () => {
    broker = await startThrowawayBroker({ name: 'helper-test' });
  }, 120_000);

  afterAll(async () => {
    await broker?.stop();
  });

  it('runs a separate node on its own port that guest can use from 127.0.0.1', async () => {
    expect(broker.port).not.toBe(5672);
    expect(broker.nodeName).toMatch(/^helper-test-.+@localhost$/);
    const connection = await amqp.connect(broker.url);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    expect((await channel.checkQueue(queue)).queue).toBe(queue);
    await connection.close();
  });

  it('drops connections on stop_app and lets clients back in after start_app', async () => {
    const connection = await amqp.connect(broker.url);
    const closed = new Promise<unknown>((resolve) => connection.once('close', resolve));
    connection.on('error', () => undefined);
    await broker.ctl('stop_app');
    expect(String(await closed)).toMatch(/CONNECTION_FORCED|shutdown/);
    expect(await connectError(broker.url)).toBeInstanceOf(Error);
    // ctl targets the throwaway node only: the shared broker keeps serving.
    expect(await connectError('amqp://guest:guest@127.0.0.1:5672', { timeout: 5_000 })).toBeUndefined();
    await broker.ctl('start_app');
    expect(await connectError(broker.url)).toBeUndefined();
  });

  it('freezes the node: the handshake stalls until it is unfrozen', async () => {
    broker.freeze();
    try {
      const error = await connectError(broker.url, { timeout: 1_000 });
      expect(error?.message).toMatch(/timeout|ETIMEDOUT/i);
    } finally {
      broker.unfreeze();
    }
    expect(await connectError(broker.url)).toBeUndefined();
  });

  it('survives kill -9 and restart with its durable data', async () => {
    const queue = 'throwaway-helper.durable';
    const connection = await amqp.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(queue, { durable: true });
    channel.sendToQueue(queue, Buffer.from('kept'), { persistent: true });
    await channel.waitForConfirms();
    connection.on('error', () => undefined);
    // A queue declared just before kill -9 was once missing after the restart (Mnesia's log not yet
    // written): flush it so this test is about restart, not about that window.
    await broker.ctl('eval', 'mnesia:sync_log().');
    const killedPid = broker.pid();

    await broker.kill();
    expect(isProcessRunning(killedPid)).toBe(false);
    expect(await accepts(broker.port)).toBe(false);

    await broker.restart();
    expect(broker.pid()).not.toBe(killedPid);
    const again = await amqp.connect(broker.url);
    const reader = await again.createChannel();
    const message = await reader.get(queue, { noAck: true });
    expect(message === false ? 'no message' : message.content.toString()).toBe('kept');
    await again.close();
  }, 60_000);

  it('stop() ends the node, frees its port and removes its folder', async () => {
    const pid = broker.pid();
    await broker.stop();
    expect(await accepts(broker.port)).toBe(false);
    expect(isProcessRunning(pid)).toBe(false);
    expect(existsSync(broker.dir)).toBe(false);
    await broker.stop();
  });
});

const hasOpenssl = await isOpensslAvailable();

describe.skipIf(!hasOpenssl)('startThrowawayBroker with TLS', () => {
  let certDir: string;
  let certs: TestCertificates;
  let broker: ThrowawayBroker;

  beforeAll(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'ferry-certs-'));
    certs = await generateTestCertificates(certDir);
    broker = await startThrowawayBroker({
      name: 'helper-tls',
      tls: {
        cacertfile: certs.caCertFile,
        certfile: certs.serverCertFile,
        keyfile: certs.serverKeyFile,
        verify: 'verify_peer',
        failIfNoPeerCert: true,
      },
    });
  }, 120_000);

  afterAll(async () => {
    await broker?.stop();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  it('accepts a client with a certificate from the CA, verified against 127.0.0.1', async () => {
    const [ca, cert, key] = await Promise.all(
      [certs.caCertFile, certs.clientCertFile, certs.clientKeyFile].map((file) => readFile(file)),
    );
    expect(broker.tls?.url).toMatch(/^amqps:\/\/guest:guest@127\.0\.0\.1:\d+$/);
    expect(await connectError(broker.tls?.url ?? '', { ca: [ca], cert, key })).toBeUndefined();
  });

  it('refuses a client without a certificate when failIfNoPeerCert is set', async () => {
    const ca = await readFile(certs.caCertFile);
    expect(await connectError(broker.tls?.url ?? '', { ca: [ca], timeout: 5_000 })).toBeInstanceOf(Error);
  });
});
