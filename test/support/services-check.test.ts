import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { missingServices } from './services-check.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

function listening(): Promise<number> {
  const server = createServer((socket) => socket.destroy());
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const port = await listening();
  await new Promise((resolve) => servers.pop()?.close(resolve));
  return port;
}

describe('the test services check', () => {
  it('says nothing when every service answers', async () => {
    expect(await missingServices([{ name: 'A', port: await listening(), start: 'start-a' }])).toBeNull();
  });

  it('names each missing service and the command that starts it, in one line', async () => {
    const up = await listening();
    const down = await closedPort();
    const line = await missingServices([
      { name: 'Up', port: up, start: 'start-up' },
      { name: 'Down', port: down, start: 'start-down --now' },
    ]);
    expect(line).toBe(
      `the tests need Down on 127.0.0.1:${down} (start it: start-down --now); set FERRY_TEST_SERVICES=skip to run anyway`,
    );
    expect(line).not.toContain('\n');
  });
});
