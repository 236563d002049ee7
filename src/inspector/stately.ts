/**
 * The Stately inspector for a running producer, opt-in and for development only: `ws` starts a local
 * relay (open `http://localhost:<port>/`; the browser then loads Stately's UI from stately.ai), `sky`
 * sends the actor system's traffic to Stately's hosted service and prints a link. Either way message
 * bodies and credentials are stripped first ({@link sanitizeContext}, {@link sanitizeEvent}).
 *
 * `@statelyai/inspect` is an optional dependency, loaded only here with `import()`. Never start this in
 * tests or CI: a WebSocket inspector whose relay is unreachable keeps the process alive for ever (it
 * retries every 5 s and `stop()` does not cancel that).
 */
import type { InspectionEvent, Observer } from 'xstate';
import { redactUrl } from '../errors.js';

/** Which inspector to start. */
export type InspectMode = 'ws' | 'sky';

/** Options of {@link startStatelyInspector}. */
export interface StatelyInspectorOptions {
  readonly mode: InspectMode;
  /** The local relay's port (`ws` only); 5678 by default, away from the package's 8080. */
  readonly port?: number;
}

/** A started inspector: pass `inspect` to `createProducer(options, { inspect })`. */
export interface StatelyInspector {
  readonly inspect: Observer<InspectionEvent>;
  /** Where to look: the relay's page for `ws`; `null` for `sky`, which prints its own link. */
  readonly url: string | null;
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
  if (Array.isArray(value)) return value.map((item) => sanitizeValue(item, depth + 1));
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

/** Loads `@statelyai/inspect` and starts the inspector; rejects when the package is not installed. */
export async function startStatelyInspector(options: StatelyInspectorOptions): Promise<StatelyInspector> {
  const stately = await import('@statelyai/inspect').catch((error: unknown) => {
    throw new Error(`the Stately inspector needs the optional package @statelyai/inspect (${String(error)})`);
  });
  const sanitize = { sanitizeContext, sanitizeEvent };
  if (options.mode === 'sky') {
    const inspector = stately.createSkyInspector(sanitize);
    return { inspect: inspector.inspect, url: null, stop: () => inspector.stop() };
  }
  const { createInspectorServer } = await import('@statelyai/inspect/server');
  const port = options.port ?? DEFAULT_INSPECT_PORT;
  const server = createInspectorServer({ port, autoOpen: false });
  const inspector = stately.createWebSocketInspector({ url: `ws://127.0.0.1:${port}`, ...sanitize });
  return {
    inspect: inspector.inspect,
    url: `http://localhost:${port}/`,
    stop: () => {
      inspector.stop();
      server.stop();
    },
  };
}
