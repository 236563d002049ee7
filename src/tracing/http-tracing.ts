/**
 * A SERVER span per HTTP request of `ferry serve`, continuing the trace of the request's `traceparent`
 * (through the global propagator) and active while the request is handled, so that the publish span
 * of a task it accepts is its child. Nothing is wrapped without `@opentelemetry/api`, and a request is
 * handled as it is while no tracer provider is registered.
 *
 * @internal
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Span } from '@opentelemetry/api';
import { otelApi } from './otel-api.js';
import { TracerSource } from './providers.js';

/** The SERVER span of each request being handled. */
const requestSpans = new WeakMap<IncomingMessage, Span>();

/**
 * The route a request matched: its span is named `{method} {route}` and gets `http.route`, as the HTTP
 * semantic conventions name a server span once its route is known.
 */
export function traceRoute(request: IncomingMessage, route: { readonly path: string }): void {
  const span = requestSpans.get(request);
  if (span === undefined) return;
  span.updateName(`${request.method ?? 'GET'} ${route.path}`);
  span.setAttribute('http.route', route.path);
}

/** `listener`, handling each request inside its SERVER span when tracing is on. */
export function traceRequests(listener: RequestListener): RequestListener {
  const api = otelApi();
  if (api === null) return listener;
  const tracers = new TracerSource(api);
  return (request: IncomingMessage, response: ServerResponse) => {
    const tracer = tracers.current();
    if (tracer === null) {
      listener(request, response);
      return;
    }
    const method = request.method ?? 'GET';
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const parent = api.propagation.extract(api.ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(
      method,
      {
        kind: api.SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          'url.path': path,
          'url.scheme': 'http',
          'network.protocol.version': request.httpVersion,
        },
      },
      parent,
    );
    requestSpans.set(request, span);
    response.once('close', () => {
      const status = response.statusCode;
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) {
        span.setAttribute('error.type', String(status));
        span.setStatus({ code: api.SpanStatusCode.ERROR });
      }
      span.end();
    });
    api.context.with(api.trace.setSpan(parent, span), () => listener(request, response));
  };
}
