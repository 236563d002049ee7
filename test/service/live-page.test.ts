/**
 * The live page's data and stream without a browser: a retrying message shows with its actor's
 * attempts, failure code and planned delay; `/events` sends the state at once and again when the
 * connection changes; `close()` ends open streams and refuses new ones.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { livePage } from '../../src/service/live-page/live-page.js';
import { type LiveState, liveState } from '../../src/service/live-page/live-state.js';
import { createRouter } from '../../src/service/router.js';
import { eventually, FAST, startedRig, task } from '../producer/helpers.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('the live page', () => {
  it('lists a retrying message as its actor sees it', async () => {
    const retry = { initialDelayMs: 60_000, maxDelayMs: 120_000 };
    const { producer, broker } = await startedRig({ retry });
    await producer.publish(task(3));
    broker.session.nack(1);
    await eventually(() => liveState(producer).retrying.length === 1, 'the message actor');
    const state = liveState(producer);
    const [row] = state.retrying;
    expect(row).toMatchObject({
      messageId: 'm-3',
      state: 'retryWait',
      attempts: 1,
      lastFailureCode: 'NACKED',
    });
    expect(row!.nextDelayMs).toBeGreaterThanOrEqual(retry.initialDelayMs);
    expect(row!.nextDelayMs).toBeLessThanOrEqual(retry.maxDelayMs);
    expect(state.retryingActors).toBe(1);
    expect(state.status.messages.retrying).toBe(1);
    expect(state.actors.map((actor) => actor.id)).toEqual(['supervisor', 'connection', 'breaker']);
  });

  it('streams the state at once and on a connection change, and ends on close()', async () => {
    const { producer, broker } = await startedRig({ connection: { reconnect: FAST.connection?.reconnect } });
    const page = livePage(producer);
    const server = createServer(createRouter(page.routes, { maxBodyBytes: 1024 }));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const html = await fetch(`${base}/`);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await html.text()).not.toMatch(/(src|href)="(https?:)?\/\//);

    const response = await fetch(`${base}/events`);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const states: LiveState[] = [];
    let ended = false;
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body!) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .find((line) => line.startsWith('data: '));
          if (data !== undefined) states.push(JSON.parse(data.slice(6)) as LiveState);
          buffer = buffer.slice(end + 2);
        }
      }
      ended = true;
    })();
    await eventually(() => states.length > 0, 'the first state');
    expect(states[0]!.status.connection.phase).toBe('connected');
    expect(states).toHaveLength(1);

    broker.session.dropConnection();
    await eventually(() => states.some((s) => s.status.connection.phase !== 'connected'), 'the drop');
    await eventually(() => states.at(-1)!.status.connection.phase === 'connected', 'the reconnect');

    page.close();
    await reading;
    expect(ended).toBe(true);
    expect((await fetch(`${base}/events`)).status).toBe(503);
  });
});
