/**
 * The Stately inspector for a running producer, opt-in and for development: every actor of the
 * producer's system (supervisor, connection, breaker, message actors) and every event between them,
 * with message bodies and credentials stripped first ({@link sanitizeValue}).
 *
 * - `ws` (the default) starts a local relay and sends to it: open `url` in a browser, which loads
 *   Stately's UI from stately.ai.
 * - `ws` with `url`: sends to a WebSocket server you run (nothing else is started).
 * - `sky`: sends to Stately's hosted service, which prints a link.
 *
 * ```ts
 * import { createProducer } from 'ferry';
 * import { startStatelyInspector } from 'ferry/inspector';
 *
 * const inspector = await startStatelyInspector({ mode: 'ws' });
 * const producer = createProducer({}, { inspect: inspector.inspect });
 * // … later: await producer.close(); inspector.stop();
 * ```
 *
 * `@statelyai/inspect` and `ws` are optional dependencies, loaded only here with `import()`. `stop()`
 * leaves no timer or socket behind: the process exits on its own afterwards.
 */
import type { InspectionEvent } from 'xstate';
import { redactUrl } from '../errors.js';
import type { ActorSystemInspector } from './inspection.js';

/** Which inspector to start. */
export type InspectMode = 'ws' | 'sky';

/** Options of {@link startStatelyInspector}. */
export interface StatelyInspectorOptions {
  /** `ws` by default. */
  readonly mode?: InspectMode;
  /** The local relay's port (`ws` only); 5678 by default, away from the package's 8080. */
  readonly port?: number;
  /** `ws` only: send to this WebSocket server (`ws://…`) instead of starting the local relay. */
  readonly url?: string;
}

/** A started inspector: pass `inspect` to `createProducer(options, { inspect })`. */
export interface StatelyInspector {
  readonly inspect: ActorSystemInspector;
  /** Where to look: the relay's page for `ws`; `null` for `sky` (it prints its own link) or a given `url`. */
  readonly url: string | null;
  /** Stops sending and closes the relay; nothing is left to keep the process alive. */
  stop(): void;
}

/** The relay's default port. */
export const DEFAULT_INSPECT_PORT = 5678;

/** Keys whose values never leave the process: payloads and secrets. */
const WITHHELD_KEYS: ReadonlySet<string> = new Set(['body', 'content', 'payload', 'password', 'passphrase']);
/** Deeper than this, values are summarised: contexts are shallow, and a cycle must not hang us. */
const MAX_DEPTH = 8;

/**
 * `value` with payloads withheld: bodies and passwords (by key), binary data (as its size) and URL
 * credentials (as `***`).
 */
export function sanitizeValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactUrl(value);
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes withheld]`;
  if (depth >= MAX_DEPTH) return '[too deep]';
  // A snapshot's tags are a Set: shown as the list they are.
  if (Array.isArray(value) || value instanceof Set)
    return [...value].map((item) => sanitizeValue(item, depth + 1));
  // Actors and other class instances are not data; the inspector shows them by reference anyway.
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return `[${value.constructor.name}]`;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = WITHHELD_KEYS.has(key) ? '[withheld]' : sanitizeValue(inner, depth + 1);
  }
  return copy;
}

/** An actor's context as the inspector may see it. */
export function sanitizeContext(context: Record<string, unknown>): Record<string, unknown> {
  return sanitizeValue(context) as Record<string, unknown>;
}

/** An event as the inspector may see it; its `type` is kept. */
export function sanitizeEvent<E extends { type: string }>(event: E): E {
  return { ...(sanitizeValue(event) as E), type: event.type };
}

/** `FERRY_INSPECT`: unset or empty is off; `ws` or `sky`; anything else is an error. */
export function inspectModeFromEnv(value: string | undefined): InspectMode | null {
  const mode = value?.trim() ?? '';
  if (mode === '') return null;
  if (mode === 'ws' || mode === 'sky') return mode;
  throw new Error(`FERRY_INSPECT: must be ws or sky (or unset), not ${JSON.stringify(mode)}`);
}

/**
 * Loads `@statelyai/inspect` and starts the inspector.
 *
 * @throws Error naming the optional packages to install when they are missing.
 */
export async function startStatelyInspector(
  options: StatelyInspectorOptions = {},
): Promise<StatelyInspector> {
  const stately = await import('@statelyai/inspect').catch((error: unknown) => {
    throw new Error(
      `the Stately inspector needs the optional packages @statelyai/inspect and ws: npm install @statelyai/inspect ws (${String(error)})`,
    );
  });
  // The whole event is sanitised as well: an actor's registration carries its snapshot, children included.
  const sanitize = { sanitizeContext, sanitizeEvent, serialize: sanitizeEvent };
  if (options.mode === 'sky') {
    const sky = stately.createSkyInspector(sanitize);
    return { inspect: forward(sky.inspect), url: null, stop: () => sky.stop() };
  }
  const { WebSocketAdapter } = await import('./websocket-adapter.js');
  if (options.url !== undefined) {
    const inspector = stately.createInspector(new WebSocketAdapter(options.url), sanitize);
    inspector.start();
    return { inspect: forward(inspector.inspect), url: null, stop: () => inspector.stop() };
  }
  const { createInspectorServer } = await import('@statelyai/inspect/server');
  const port = options.port ?? DEFAULT_INSPECT_PORT;
  const server = createInspectorServer({ port, autoOpen: false });
  const inspector = stately.createInspector(new WebSocketAdapter(`ws://127.0.0.1:${port}`), sanitize);
  inspector.start();
  return {
    inspect: forward(inspector.inspect),
    url: `http://localhost:${port}/`,
    stop: () => {
      inspector.stop();
      server.stop();
    },
  };
}

/** The package's observer as the producer's inspector: every event the actor system reports. */
function forward(observer: { next?: (event: InspectionEvent) => void }): ActorSystemInspector {
  return (event) => observer.next?.(event as InspectionEvent);
}
