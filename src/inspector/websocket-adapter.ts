/**
 * Sends the Stately inspector's events over one WebSocket, and stops for good when told to: no timer
 * or socket is left behind, so a process that stops its inspector exits on its own. (The package's
 * own WebSocket adapter retries every 5 s after an error, and its `stop()` cannot cancel that.)
 *
 * @internal
 */
import WebSocket from 'ws';

/** Events kept while the socket is not open yet; the oldest go first beyond this. */
const MAX_DEFERRED = 1_000;
/** Wait before reconnecting after the socket failed or closed. */
const RETRY_MS = 1_000;

/** An `@statelyai/inspect` adapter over `ws`. */
export class WebSocketAdapter {
  private socket: WebSocket | null = null;
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly deferred: string[] = [];

  constructor(private readonly url: string) {}

  start(): void {
    if (this.stopped || this.socket !== null) return;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.on('open', () => {
      for (const text of this.deferred.splice(0)) socket.send(text);
    });
    // An error is followed by `close`, which schedules the retry.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.socket = null;
      if (this.stopped) return;
      this.retry = setTimeout(() => {
        this.retry = null;
        this.start();
      }, RETRY_MS);
      // An inspector never keeps a process alive on its own.
      this.retry.unref();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.socket?.terminate();
    this.socket = null;
    this.deferred.length = 0;
  }

  send(event: unknown): void {
    if (this.stopped) return;
    const text = JSON.stringify(event);
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(text);
      return;
    }
    this.deferred.push(text);
    if (this.deferred.length > MAX_DEFERRED) this.deferred.shift();
  }
}
