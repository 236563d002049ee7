/** Connecting through the amqplib adapter: failures mapped to FerryErrors, failover, timeouts, aborts, TLS. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createAmqplibBroker } from '../../src/amqp/amqplib-session.js';
import { firstRotation } from '../../src/amqp/node-rotation.js';
import type { BrokerSession } from '../../src/amqp/ports.js';
import { FerryError } from '../../src/errors.js';
import { closedPort, FaultProxy, type ProxyMode } from '../faults/support/fault-proxy.js';
import { offlineLookup } from '../support/offline-dns.js';
import { BROKER_URL, connectOptions, eventually, rabbitmqctl, uniqueName } from './helpers.js';

const open: BrokerSession[] = [];
const servers: FaultProxy[] = [];
afterEach(async () => {
  for (const session of open.splice(0)) session.destroy();
  for (const server of servers.splice(0)) await server.stop();
});

async function startServer(mode: ProxyMode): Promise<FaultProxy> {
  const server = await FaultProxy.start({ mode, targetPort: 5672 });
  servers.push(server);
  return server;
}

function seedStartsAt(seed: number, index: number, count = 3): boolean {
  return firstRotation(count, seed).next === index;
}

/** A seed whose first failover round over `count` URLs starts with URL `index`. */
function seedStartingAt(index: number, count: number): number {
  for (let seed = 0; ; seed += 1) if (seedStartsAt(seed, index, count)) return seed;
}

async function connectFails(
  urls: string[],
  more: Parameters<typeof connectOptions>[0] = {},
): Promise<FerryError> {
  const error = await createAmqplibBroker()
    .connect(connectOptions({ urls, ...more }), new AbortController().signal)
    .then(
      (session) => {
        open.push(session);
        throw new Error('connected');
      },
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(FerryError);
  return error as FerryError;
}

describe('connect failures', () => {
  it('bad credentials: ACCESS_REFUSED, fatal and permanent, without the password in the message', async () => {
    const error = await connectFails(['amqp://guest:not-the-password@127.0.0.1:5672']);
    expect(error).toMatchObject({ code: 'ACCESS_REFUSED', severity: 'fatal', permanent: true });
    expect(error.message).toContain('amqp://guest:***@127.0.0.1:5672');
    expect(error.message).not.toContain('not-the-password');
    expect(error.details).toMatchObject({ replyCode: 403, endpoint: 'amqp://guest:***@127.0.0.1:5672' });
  });

  it('a vhost the user has no access to: NOT_ALLOWED, permanent', async () => {
    const vhost = uniqueName('noaccess');
    await rabbitmqctl('add_vhost', vhost);
    try {
      const error = await connectFails([`${BROKER_URL}/${vhost}`]);
      expect(error).toMatchObject({ code: 'NOT_ALLOWED', severity: 'fatal', permanent: true });
    } finally {
      await rabbitmqctl('delete_vhost', vhost);
    }
  });

  it('a closed port: CONNECTION_REFUSED, transient', async () => {
    const port = await closedPort();
    const error = await connectFails([`amqp://guest:guest@127.0.0.1:${port}`]);
    expect(error).toMatchObject({ code: 'CONNECTION_REFUSED', severity: 'reconnect', permanent: false });
  });

  it('a host that does not resolve: DNS_FAILURE', async () => {
    const asked: string[] = [];
    const error = await connectFails(['amqp://guest:guest@ferry.invalid'], {
      lookup: (hostname, options, callback) => {
        asked.push(hostname);
        offlineLookup(hostname, options, callback);
      },
    });
    expect(asked).toEqual(['ferry.invalid']);
    expect(error).toMatchObject({ code: 'DNS_FAILURE', permanent: false });
  });

  it('TLS against a plain AMQP port: TLS_ERROR, permanent', async () => {
    const error = await connectFails(['amqps://guest:guest@127.0.0.1:5672'], {
      tls: { rejectUnauthorized: false },
    });
    expect(error).toMatchObject({ code: 'TLS_ERROR', severity: 'fatal', permanent: true });
  });

  it('unusable options: INVALID_OPTIONS before any socket is opened', async () => {
    expect(await connectFails([])).toMatchObject({ code: 'INVALID_OPTIONS', permanent: true });
    expect(await connectFails(['http://127.0.0.1:5672'])).toMatchObject({ code: 'INVALID_OPTIONS' });
    const tlsOnPlain = await connectFails([BROKER_URL], { tls: { rejectUnauthorized: true } });
    expect(tlsOnPlain.message).toContain('amqps://');
    expect(tlsOnPlain.message).not.toContain('guest:guest');
  });
});

describe('bounded attempts', () => {
  it('a broker that never answers: CONNECT_TIMEOUT, and the socket is closed', async () => {
    const silent = await startServer('silent');
    const started = Date.now();
    const error = await connectFails([silent.url], { connectionTimeoutMs: 300 });
    expect(error).toMatchObject({ code: 'CONNECT_TIMEOUT', permanent: false });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(silent.accepted).toBe(1);
    await eventually(() => silent.open === 0);
  });

  it('an aborted connect rejects with CLOSED and closes its socket', async () => {
    const silent = await startServer('silent');
    const controller = new AbortController();
    const connecting = createAmqplibBroker().connect(
      connectOptions({ urls: [silent.url] }),
      controller.signal,
    );
    await eventually(() => silent.accepted === 1);
    controller.abort();
    await expect(connecting).rejects.toMatchObject({ code: 'CLOSED' });
    await eventually(() => silent.open === 0);
  });
});

describe('multi-host failover', () => {
  it('skips a dead first URL, and the next round starts with the URL that worked', async () => {
    const dead = await startServer('hang-up');
    const broker = createAmqplibBroker();
    const options = connectOptions({ urls: [dead.url, BROKER_URL], seed: seedStartingAt(0, 2) });
    const first = await broker.connect(options, new AbortController().signal);
    open.push(first);
    expect(first.endpoint).toBe('amqp://guest:***@127.0.0.1:5672');
    expect(dead.accepted).toBe(1);
    await first.close();
    const second = await broker.connect(options, new AbortController().signal);
    open.push(second);
    expect(second.endpoint).toBe('amqp://guest:***@127.0.0.1:5672');
    expect(dead.accepted).toBe(1);
  });

  it('after the session on a node is lost, the next round starts on another node', async () => {
    const nodes = [await startServer('proxy'), await startServer('proxy'), await startServer('proxy')];
    const broker = createAmqplibBroker();
    const options = connectOptions({ urls: nodes.map((node) => node.url), seed: seedStartingAt(1, 3) });
    const first = await broker.connect(options, new AbortController().signal);
    open.push(first);
    expect(first.endpoint).toBe(`amqp://guest:***@127.0.0.1:${nodes[1]!.port}`);
    // The node goes away under the session, as a stopped broker's socket would.
    nodes[1]!.closeAll();
    const second = await broker.connect(options, new AbortController().signal);
    open.push(second);
    expect(second.endpoint).toBe(`amqp://guest:***@127.0.0.1:${nodes[2]!.port}`);
    expect(nodes.map((node) => node.accepted)).toEqual([0, 1, 1]);
    // A session its owner destroyed (a failed health check) counts as its node failing too.
    second.destroy();
    const third = await broker.connect(options, new AbortController().signal);
    open.push(third);
    expect(third.endpoint).toBe(`amqp://guest:***@127.0.0.1:${nodes[0]!.port}`);
  });

  it('instances with different seeds start on different nodes', async () => {
    const nodes = [await startServer('proxy'), await startServer('proxy'), await startServer('proxy')];
    const urls = nodes.map((node) => node.url);
    for (let seed = 0; seed < 12; seed += 1) {
      const session = await createAmqplibBroker().connect(
        connectOptions({ urls, seed }),
        new AbortController().signal,
      );
      await session.close();
    }
    const drawn = [0, 1, 2].map(
      (index) =>
        Array.from({ length: 12 }, (_, seed) => seed).filter((seed) => seedStartsAt(seed, index)).length,
    );
    expect(nodes.map((node) => node.accepted)).toEqual(drawn);
    for (const node of nodes) expect(node.accepted).toBeGreaterThan(0);
  });

  it('when every URL fails, reports the last transient failure and every attempt', async () => {
    const port = await closedPort();
    const error = await connectFails(
      [
        'amqp://guest:wrong@127.0.0.1:5672',
        `amqp://guest:guest@127.0.0.1:${port}`,
        'amqp://guest:guest@ferry.invalid',
      ],
      { lookup: offlineLookup, seed: seedStartingAt(0, 3) },
    );
    expect(error.code).toBe('DNS_FAILURE');
    expect(error.permanent).toBe(false);
    // The message names every node and what it did, in the order tried.
    expect(error.message).toMatch(
      new RegExp(`ACCESS_REFUSED .*5672.*; CONNECTION_REFUSED .*:${port}.*; DNS_FAILURE .*ferry\\.invalid`),
    );
    const attempts = (error.details?.attempts ?? []) as { code: string }[];
    expect(attempts.map((attempt) => attempt.code)).toEqual([
      'ACCESS_REFUSED',
      'CONNECTION_REFUSED',
      'DNS_FAILURE',
    ]);
  });

  it('when every URL fails permanently, the error is permanent', async () => {
    const error = await connectFails([
      'amqp://guest:wrong@127.0.0.1:5672',
      'amqp://nobody:wrong@127.0.0.1:5672',
    ]);
    expect(error).toMatchObject({ code: 'ACCESS_REFUSED', permanent: true });
  });
});

/** A TLS terminator in front of the broker, with a fresh self-signed certificate for `localhost`. */
async function tlsProxy(): Promise<{ port: number; cert: Buffer; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-tls-'));
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    const [key, cert] = await Promise.all([readFile(join(dir, 'key.pem')), readFile(join(dir, 'cert.pem'))]);
    const sockets = new Set<net.Socket>();
    const server = tls.createServer({ key, cert }, (client) => {
      const upstream = net.connect(5672, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    return {
      port,
      cert,
      close: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('TLS', () => {
  it('verifies the broker against the given CA and host name, and refuses an unknown certificate', async () => {
    const proxy = await tlsProxy();
    try {
      const url = `amqps://guest:guest@localhost:${proxy.port}`;
      const session = await createAmqplibBroker().connect(
        connectOptions({ urls: [url], tls: { ca: proxy.cert, rejectUnauthorized: true } }),
        new AbortController().signal,
      );
      open.push(session);
      expect(session.endpoint).toBe(`amqps://guest:***@localhost:${proxy.port}`);
      await session.checkExchange('amq.topic');

      const unknown = await connectFails([url], { tls: { rejectUnauthorized: true } });
      expect(unknown).toMatchObject({ code: 'TLS_ERROR', permanent: true });
      const wrongName = await connectFails([url], {
        tls: { ca: proxy.cert, rejectUnauthorized: true, servername: 'rabbit.example' },
      });
      expect(wrongName).toMatchObject({ code: 'TLS_ERROR' });
    } finally {
      await proxy.close();
    }
  });
});
