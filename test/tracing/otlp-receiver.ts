/**
 * An OTLP/HTTP receiver for tests, on 127.0.0.1: it takes `POST /v1/traces` in the JSON encoding
 * (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) and keeps every span it was sent; other signals are
 * acknowledged and dropped.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as OTLP/JSON carries it, the fields tests read. */
export interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  /** 2 server, 4 producer. */
  readonly kind: number;
  readonly attributes?: readonly { readonly key: string; readonly value: Record<string, unknown> }[];
  readonly events?: readonly { readonly name: string }[];
}

/** A running receiver. */
export interface OtlpReceiver {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT` for it. */
  readonly endpoint: string;
  /** Every span received so far, with the `service.name` of its resource. */
  spans(): readonly (OtlpSpan & { readonly service: string })[];
  close(): Promise<void>;
}

interface TracesRequest {
  readonly resourceSpans?: readonly {
    readonly resource?: { readonly attributes?: OtlpSpan['attributes'] };
    readonly scopeSpans?: readonly { readonly spans?: readonly OtlpSpan[] }[];
  }[];
}

/** The string value of attribute `key`, if any. */
export function attribute(attributes: OtlpSpan['attributes'], key: string): unknown {
  const value = attributes?.find((entry) => entry.key === key)?.value;
  return value === undefined ? undefined : Object.values(value)[0];
}

/** Starts a receiver on a free port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: (OtlpSpan & { service: string })[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TracesRequest;
        for (const resourceSpans of body.resourceSpans ?? []) {
          const service = String(attribute(resourceSpans.resource?.attributes, 'service.name'));
          for (const scope of resourceSpans.scopeSpans ?? []) {
            for (const span of scope.spans ?? []) received.push({ ...span, service });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
