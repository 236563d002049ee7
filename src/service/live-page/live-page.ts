/**
 * The live state page: `GET /` serves a self-contained HTML page (no external scripts, fonts or
 * stylesheets, so it works offline) and `GET /events` streams the producer's {@link LiveState} as
 * server-sent events. One feed serves every open page: it pushes at once when `state$` changes and
 * otherwise looks at most every {@link POLL_MS} for changed counts, sending only what differs. With no
 * page open it holds no subscription and no timer.
 */
import type { ServerResponse } from 'node:http';
import type { Subscription } from 'rxjs';
import type { Producer } from '../../producer/producer.js';
import { errorReply, type Route } from '../router.js';
import { liveState } from './live-state.js';
import { LIVE_PAGE_HTML } from './page-html.js';

/** How often counts (buffered, in flight, retrying) are looked at while a page is open. */
export const POLL_MS = 500;

/** The page's routes and the function that ends every open stream (call it before shutdown). */
export interface LivePage {
  readonly routes: readonly Route[];
  /** Ends every open `/events` stream, so that the server's shutdown need not wait for them. */
  close(): void;
}

/** The live page for `producer`. */
export function livePage(producer: Producer): LivePage {
  const clients = new Set<ServerResponse>();
  let subscription: Subscription | null = null;
  let timer: NodeJS.Timeout | null = null;
  let last = '';
  let closed = false;

  const push = (): void => {
    const data = JSON.stringify(liveState(producer));
    if (data === last) return;
    last = data;
    for (const client of clients) client.write(`data: ${data}\n\n`);
  };
  const stopFeed = (): void => {
    subscription?.unsubscribe();
    subscription = null;
    if (timer !== null) clearInterval(timer);
    timer = null;
    last = '';
  };
  const leave = (client: ServerResponse): void => {
    clients.delete(client);
    if (clients.size === 0) stopFeed();
  };
  const join = (response: ServerResponse): void => {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const data = JSON.stringify(liveState(producer));
    // A page that lost the stream reconnects after a second.
    response.write(`retry: 1000\n\ndata: ${data}\n\n`);
    clients.add(response);
    response.once('close', () => leave(response));
    if (subscription === null) {
      last = data;
      subscription = producer.state$.subscribe({ next: push, complete: push });
      timer = setInterval(push, POLL_MS);
      timer.unref();
    }
  };

  return {
    routes: [
      {
        method: 'GET',
        path: '/',
        handler: () => ({ status: 200, text: LIVE_PAGE_HTML, contentType: 'text/html; charset=utf-8' }),
      },
      {
        method: 'GET',
        path: '/events',
        // After close() a reconnecting page must not open a stream that holds the shutdown up again.
        handler: () =>
          closed
            ? errorReply(503, 'SHUTTING_DOWN', 'the service is shutting down')
            : { status: 200, stream: join },
      },
    ],
    close: () => {
      closed = true;
      for (const client of [...clients]) client.end();
      clients.clear();
      stopFeed();
    },
  };
}
