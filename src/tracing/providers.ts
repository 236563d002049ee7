/**
 * Whether the application registered a tracer provider or a meter provider, asked without allocating:
 * without one, the API's no-op provider is in place and ferry skips the work altogether (no span, no
 * header, no attribute object). A provider registered or replaced later is picked up on the next ask.
 *
 * @internal
 */
import type { Counter, Histogram, Tracer, TracerProvider } from '@opentelemetry/api';
import type { OtelApi } from './otel-api.js';

/** The instrumentation scope ferry's spans and metrics are reported under. */
export const SCOPE = 'ferry';

/**
 * A lookup made at most once per burst of calls (until the next microtask). The API's global provider
 * lookup cost as much as the rest of an outcome's metrics, and a relay adopts a claim's rows one by
 * one: a provider registered meanwhile is seen from the next burst on.
 */
class OncePerBurst<T> {
  private looked = false;
  private value: T | undefined;

  constructor(private readonly lookUp: () => T) {}

  get(): T {
    if (!this.looked) {
      this.looked = true;
      queueMicrotask(this.burstEnded);
      this.value = this.lookUp();
    }
    return this.value as T;
  }

  private readonly burstEnded = (): void => {
    this.looked = false;
  };
}

/** The current tracer: `null` while no tracer provider is registered. */
export class TracerSource {
  /** The API's no-op provider: what a proxy with nothing registered delegates to. */
  private readonly noop: TracerProvider;
  private provider: TracerProvider | null = null;
  private tracer: Tracer | null = null;
  private readonly lookup = new OncePerBurst(() => this.lookUp());

  constructor(private readonly api: OtelApi) {
    this.noop = new api.ProxyTracerProvider().getDelegate();
  }

  /** The tracer of the registered provider, or `null`. */
  current(): Tracer | null {
    return this.lookup.get();
  }

  private lookUp(): Tracer | null {
    const global = this.api.trace.getTracerProvider() as TracerProvider & {
      getDelegate?: () => TracerProvider;
    };
    const provider = typeof global.getDelegate === 'function' ? global.getDelegate() : global;
    if (provider !== this.provider) {
      this.provider = provider;
      this.tracer = provider === this.noop ? null : provider.getTracer(SCOPE);
    }
    return this.tracer;
  }
}

/** The semconv client metrics of a publish. */
export interface PublishInstruments {
  /** `messaging.client.sent.messages`. */
  readonly sent: Counter;
  /** `messaging.client.operation.duration`, seconds. */
  readonly duration: Histogram;
}

/** The semconv histogram's recommended buckets, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** The current instruments: `null` while no meter provider is registered. Asked once per outcome. */
export class MeterSource {
  /** What a no-op meter creates: every counter of it is this one object. */
  private readonly noopCounter: Counter;
  private provider: unknown = null;
  private instruments: PublishInstruments | null = null;
  private readonly lookup = new OncePerBurst(() => this.lookUp());

  constructor(private readonly api: OtelApi) {
    this.noopCounter = api.createNoopMeter().createCounter(SCOPE);
  }

  /** The instruments of the registered provider, or `null`. */
  current(): PublishInstruments | null {
    return this.lookup.get();
  }

  private lookUp(): PublishInstruments | null {
    const provider = this.api.metrics.getMeterProvider();
    if (provider !== this.provider) {
      this.provider = provider;
      const meter = provider.getMeter(SCOPE);
      const sent = meter.createCounter('messaging.client.sent.messages', {
        unit: '{message}',
        description: 'Number of messages the producer attempted to send to the broker.',
      });
      this.instruments =
        sent === this.noopCounter
          ? null
          : {
              sent,
              duration: meter.createHistogram('messaging.client.operation.duration', {
                unit: 's',
                description: 'Duration of the publish operation, from acceptance to its outcome.',
                advice: { explicitBucketBoundaries: DURATION_BUCKETS },
              }),
            };
    }
    return this.instruments;
  }
}
