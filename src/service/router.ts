/**
 * A small router over `node:http`: routes are plain data (method, path with `:params`, handler), every
 * reply is JSON (or text, for Prometheus and HTML; or a stream, for server-sent events), and every
 * error — unknown route (404), wrong method (405), wrong content type (415), oversized (413) or
 * malformed body (400), a handler's failure (500) — is a JSON object `{ error: { code, message } }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * What a handler answers: JSON, text with its content type, or a stream the handler writes itself
 * (server-sent events): `stream` gets the response once the route matched and owns it from then on.
 */
export type Reply =
  | { readonly status: number; readonly json: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly status: number; readonly text: string; readonly contentType: string }
  | { readonly status: number; readonly stream: (response: ServerResponse) => void };

/** What a handler gets. */
export interface RequestContext {
  readonly request: IncomingMessage;
  readonly url: URL;
  /** The path's `:name` segments, URI-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The body parsed as JSON; rejects with an {@link HttpError} (415, 413, 400). */
  json(): Promise<unknown>;
}

/** One route: `path` is literal segments and `:name` parameters, e.g. `/api/shares/:shareId/ml/embed`. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  readonly path: string;
  readonly handler: (context: RequestContext) => Reply | Promise<Reply>;
  /** Reachable without the API token (health checks); routes need it by default when one is set. */
  readonly open?: boolean;
}

/** An error with the HTTP status and code it is answered with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A JSON error reply. */
export function errorReply(status: number, code: string, message: string): Reply {
  return { status, json: { error: { code, message } } };
}

interface CompiledRoute {
  readonly route: Route;
  readonly segments: readonly string[];
}

function split(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

function match(segments: readonly string[], path: readonly string[]): Record<string, string> | null {
  if (segments.length !== path.length) return null;
  const params: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    const actual = path[index] as string;
    if (segment.startsWith(':')) {
      try {
        params[segment.slice(1)] = decodeURIComponent(actual);
      } catch {
        return null;
      }
    } else if (segment !== actual) {
      return null;
    }
  }
  return params;
}

/**
 * The deepest nesting of arrays and objects a body may have. Deeper bodies are refused before they are
 * parsed: validating one would recurse as deep, and no route takes more than a few levels.
 */
export const MAX_BODY_DEPTH = 64;

/** Whether JSON `text` nests deeper than `limit`, read without parsing (brackets in strings skipped). */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth -= 1;
  }
  return false;
}

/** Reads the body up to `limit` bytes and parses it as JSON. */
async function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  const { 'content-type': given, 'content-length': length, 'transfer-encoding': chunked } = request.headers;
  // No body at all (`curl -X POST …`) reads as an empty object, so the route names the missing field.
  if (given === undefined && (length === undefined || length === '0') && chunked === undefined) return {};
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'the body must be JSON (Content-Type: application/json)',
    );
  }
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  const tooLarge = new HttpError(413, 'PAYLOAD_TOO_LARGE', `the body is larger than ${limit} bytes`);
  if (declared > limit) throw tooLarge;
  // A client that goes away mid-body is its own business, not the service's failure: no error log.
  const gone = new HttpError(400, 'CLIENT_CLOSED', 'the client closed the connection before the body ended');
  // Events, not `for await`: leaving an async iterator early destroys the socket the 413 must go out on.
  const content = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) reject(tooLarge);
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', () => reject(gone));
    request.on('close', () => {
      if (!request.complete) reject(gone);
    });
  });
  const text = content.toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'INVALID_BODY', 'the body is empty: send a JSON object');
  if (nestsDeeperThan(text, MAX_BODY_DEPTH)) {
    throw new HttpError(
      400,
      'INVALID_BODY',
      `the body nests more than ${MAX_BODY_DEPTH} levels deep; the workers cannot decode it`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'INVALID_BODY', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

function send(response: ServerResponse, reply: Reply, close: boolean): void {
  if ('stream' in reply) {
    response.statusCode = reply.status;
    reply.stream(response);
    return;
  }
  const body = 'json' in reply ? JSON.stringify(reply.json) : reply.text;
  response.writeHead(reply.status, {
    'content-type': 'json' in reply ? 'application/json; charset=utf-8' : reply.contentType,
    'content-length': Buffer.byteLength(body),
    ...('headers' in reply ? reply.headers : {}),
    ...(close ? { connection: 'close' } : {}),
  });
  response.end(body);
}

/**
 * The request target as a URL, or `null` when it is not one. The target is appended to a fixed origin
 * rather than resolved against it: resolved, `//x/y` would be a URL of host `x` (and `//` would throw).
 */
function requestUrl(target: string): URL | null {
  try {
    // Absolute-form targets (`http://host/path`, sent through proxies) are URLs already.
    return target.startsWith('/')
      ? new URL(`http://localhost${target}`)
      : new URL(target, 'http://localhost');
  } catch {
    return null;
  }
}

/** Options of {@link createRouter}. */
export interface RouterOptions {
  /** The largest body accepted, in bytes; larger ones get 413. */
  readonly maxBodyBytes: number;
  /** Called with a handler's unexpected error (answered 500). */
  readonly onError?: (error: unknown, request: IncomingMessage) => void;
  /** Runs before a matched route's handler; a reply it returns is sent instead (401, 503). */
  readonly guard?: (request: IncomingMessage, route: Route) => Reply | null;
  /** Called with the route a request matched, before its handler (names the request's span). */
  readonly onRoute?: (request: IncomingMessage, route: Route) => void;
}

/** A request listener for `http.createServer` that dispatches to `routes`. */
export function createRouter(
  routes: readonly Route[],
  options: RouterOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const compiled: CompiledRoute[] = routes.map((route) => ({ route, segments: split(route.path) }));
  const dispatch = async (request: IncomingMessage): Promise<Reply> => {
    const url = requestUrl(request.url ?? '/');
    if (url === null) return errorReply(400, 'INVALID_URL', 'the request target is not a valid path');
    const path = split(url.pathname);
    const allowed: string[] = [];
    for (const { route, segments } of compiled) {
      const params = match(segments, path);
      if (params === null) continue;
      if (route.method !== request.method) {
        allowed.push(route.method);
        continue;
      }
      options.onRoute?.(request, route);
      const refused = options.guard?.(request, route) ?? null;
      if (refused !== null) return refused;
      return route.handler({ request, url, params, json: () => readJson(request, options.maxBodyBytes) });
    }
    if (allowed.length > 0) {
      return {
        status: 405,
        json: {
          error: {
            code: 'METHOD_NOT_ALLOWED',
            message: `${request.method} is not allowed here; use ${allowed.join(', ')}`,
          },
        },
        headers: { allow: allowed.join(', ') },
      };
    }
    return errorReply(404, 'NOT_FOUND', `no route for ${request.method} ${url.pathname}`);
  };
  return (request, response) => {
    dispatch(request)
      .then(
        (reply) => send(response, reply, false),
        (error: unknown) => {
          if (error instanceof HttpError) {
            // Unread body bytes would be parsed as the next request: close the connection after a 413.
            send(response, errorReply(error.status, error.code, error.message), error.status === 413);
            return;
          }
          options.onError?.(error, request);
          send(response, errorReply(500, 'INTERNAL_ERROR', 'the request failed; see the service log'), false);
        },
      )
      // A reply that cannot be written (its socket gone mid-way) ends the response, never the process.
      .catch(() => response.destroy());
  };
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  431: 'Request Header Fields Too Large',
};

/**
 * A `clientError` listener for the server: a request Node cannot parse (a malformed request line, a
 * target or headers over Node's 16 KiB limit) gets a JSON error like every other refusal, not an
 * empty reply; a connection that is already gone is let go.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const body = JSON.stringify({
    error:
      status === 431
        ? { code: 'REQUEST_TOO_LARGE', message: 'the request target or headers exceed 16 KiB' }
        : { code: 'BAD_REQUEST', message: 'the request is not valid HTTP/1.1' },
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
