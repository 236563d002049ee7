/**
 * Catching unroutable messages with an alternate exchange instead of `mandatory`.
 *
 * RabbitMQ charges for `mandatory` on every message (the queue tells the channel it took each one).
 * An alternate exchange catches what no binding routes at no cost to the routed ones, but only if it
 * is really there: the workers declare the task exchange without arguments, so the link is a broker
 * policy that ferry cannot read. ferry therefore proves it per exchange and per connection: it sends a
 * probe with a routing key nothing binds and drops `mandatory` for that exchange only once the probe
 * comes out of the unroutable queue it consumes. Whatever else comes out of that queue was published
 * and confirmed but went nowhere: it is taken back as a returned message (journaled, retried after the
 * topology is declared again, then dead-lettered), and acked only once the journal holds it.
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';
import type { BrokerSession, Delivery } from '../amqp/ports.js';
import { FerryError } from '../errors.js';

/** Where unroutable messages go when `mandatory` is not set (see `ProducerOptions.topology.unroutable`). */
export interface UnroutableSettings {
  /** The alternate exchange (fanout) that the task exchange's policy names. */
  readonly alternateExchange: string;
  /** The queue bound to it, which ferry consumes. */
  readonly queue: string;
  /** How long a probe may take to come out of `queue` before its exchange counts as unproven. */
  readonly probeTimeoutMs: number;
  /**
   * How often a proof is renewed, and how long an unproven exchange stays `mandatory` before it is
   * probed again: a policy removed while ferry runs is noticed within this plus the probe timeout,
   * and meanwhile the broker drops what no binding routes.
   */
  readonly reprobeIntervalMs: number;
}

/** What the catcher needs from the producer. */
export interface UnroutableCatcherHooks {
  /** The session messages are published on now. */
  readonly session: () => BrokerSession | null;
  /**
   * Declares the topology again (the unroutable queue among it), at once or when the rate limit
   * allows; `undefined` when the user owns the topology.
   */
  readonly repairTopology: () => Promise<void> | undefined;
  /** Takes back a message that went nowhere; resolves once the journal holds it. */
  readonly takeBack: (delivery: Delivery) => Promise<void>;
  /** Told when an exchange could not be proven, or the consumer ended: publishing stays `mandatory`. */
  readonly warn: (what: string, error: FerryError) => void;
  /** Wall clock in ms. */
  readonly now: () => number;
}

/**
 * Header on a caught message's copy: how often the alternate exchange caught it so far. A retry cannot
 * bypass the alternate exchange (`mandatory` returns only what it does not catch either), so a message
 * still unroutable is caught again and taken back as a new copy; this count makes each catch use up an
 * attempt, and the message is dead-lettered after `maxAttempts` as a returned one would be.
 */
export const CAUGHT_HEADER = 'x-ferry-caught';

/** The {@link CAUGHT_HEADER} count in `headers`; 0 when absent or not a count. */
export function caughtCount(headers: Readonly<Record<string, unknown>> | undefined): number {
  const value = headers?.[CAUGHT_HEADER];
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 0;
}

/** A probe's `type` property: how a probe is told from a caught message. */
export const PROBE_TYPE = 'ferry.alternate-exchange-probe';
/**
 * How long another producer's probe is held before it goes back to the queue. Producers sharing the
 * unroutable queue consume it in turn, so a probe can reach the wrong one; handed back at once, it
 * would circle at full speed while its owner is away (until its expiry, the probe timeout).
 */
export const FOREIGN_PROBE_DELAY_MS = 50;
const PROBE_PREFIX = 'ferry-probe.';
/** The default exchange's name. */
const DEFAULT_EXCHANGE = '';

type Proof =
  /** `timer` renews the proof. */
  | { readonly state: 'proven'; readonly timer: NodeJS.Timeout }
  /** `timer` gives up on the probe; `renewing`: the exchange was proven and counts as caught meanwhile. */
  | {
      readonly state: 'probing';
      readonly probeId: string;
      readonly timer: NodeJS.Timeout;
      readonly renewing: boolean;
    }
  | { readonly state: 'unproven'; readonly retryAt: number };

/**
 * One per producer; follows the current session.
 *
 * @internal
 */
export class UnroutableCatcher {
  private session: BrokerSession | null = null;
  /** Tells this producer's probes from those of others consuming the same queue. */
  private readonly probePrefix = `${PROBE_PREFIX}${randomUUID()}.`;
  private readonly proofs = new Map<string, Proof>();
  /** The next attempt to consume the queue, after a consumer could not start or ended unrepaired. */
  private consumeRetry: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: UnroutableSettings,
    private readonly hooks: UnroutableCatcherHooks,
  ) {}

  /**
   * Whether an unroutable message published to `exchange` now would be caught, so `mandatory` can be
   * left off. Starts proving an exchange it has not seen on this connection (the answer stays `false`
   * until the probe is back).
   */
  catches(exchange: string): boolean {
    // Proofs belong to the session they were made on; the next session's consumer starts with attach.
    if (this.session === null || this.hooks.session() !== this.session) return false;
    // The default exchange takes no alternate exchange (RabbitMQ special-cases it; no policy applies).
    if (exchange === DEFAULT_EXCHANGE) return false;
    const proof = this.proofs.get(exchange);
    if (proof?.state === 'proven' || (proof?.state === 'probing' && proof.renewing)) return true;
    if (proof === undefined || (proof.state === 'unproven' && this.hooks.now() >= proof.retryAt)) {
      this.probe(exchange, false);
    }
    return false;
  }

  /** A new session: nothing is proven on it until its consumer runs and a probe comes back. */
  attach(session: BrokerSession): Promise<void> {
    this.forget();
    clearTimeout(this.consumeRetry);
    this.session = session;
    return this.consume(session);
  }

  /** The producer closed: no more probes, renewals or warnings. */
  stop(): void {
    this.forget();
    clearTimeout(this.consumeRetry);
    this.session = null;
  }

  private consume(session: BrokerSession): Promise<void> {
    const { queue } = this.settings;
    return session
      .consume(
        queue,
        (delivery) => this.onDelivery(delivery),
        (error) => {
          if (this.session !== session) return;
          this.forget();
          this.hooks.warn(`stopped consuming ${queue}; publishing with mandatory`, error);
          // Deleted: declared again, then consumed again; the exchanges are proven anew.
          const repaired = this.hooks.repairTopology();
          if (repaired === undefined) this.consumeLater(session);
          else
            repaired.then(() => {
              if (this.session === session) return this.consume(session);
            });
        },
      )
      .catch((error: unknown) => {
        if (this.session !== session) return;
        this.hooks.warn(
          `cannot consume ${queue}; publishing with mandatory, trying again in ${this.settings.reprobeIntervalMs} ms`,
          FerryError.from(error),
        );
        this.consumeLater(session);
      });
  }

  /**
   * Consumes again after `reprobeIntervalMs`: the queue may be back by then (declared by whoever owns
   * the topology, or by ferry's next repair), and until then every exchange stays `mandatory`.
   */
  private consumeLater(session: BrokerSession): void {
    clearTimeout(this.consumeRetry);
    this.consumeRetry = setTimeout(() => {
      this.consumeRetry = undefined;
      if (this.session === session) void this.consume(session);
    }, this.settings.reprobeIntervalMs);
    this.consumeRetry.unref();
  }

  private onDelivery(delivery: Delivery): Promise<void> {
    if (delivery.properties.type !== PROBE_TYPE) return this.hooks.takeBack(delivery);
    const probeId = delivery.properties.messageId ?? '';
    if (!probeId.startsWith(this.probePrefix)) {
      // Another producer's: back to the queue (a rejection requeues it), for its owner to see.
      return new Promise((_, reject) => {
        setTimeout(() => reject(new Error('another producer’s probe')), FOREIGN_PROBE_DELAY_MS).unref();
      });
    }
    const proof = this.proofs.get(delivery.exchange);
    // A probe of an earlier connection, or one that came back too late, proves nothing now.
    if (proof?.state === 'probing' && proof.probeId === probeId) {
      clearTimeout(proof.timer);
      const { exchange } = delivery;
      const renew = setTimeout(() => this.probe(exchange, true), this.settings.reprobeIntervalMs);
      renew.unref();
      this.proofs.set(exchange, { state: 'proven', timer: renew });
    }
    return Promise.resolve();
  }

  private probe(exchange: string, renewing: boolean): void {
    const session = this.session;
    if (session === null) return;
    const probeId = `${this.probePrefix}${randomUUID()}`;
    const timer = setTimeout(() => this.unproven(exchange, probeId), this.settings.probeTimeoutMs);
    timer.unref();
    this.proofs.set(exchange, { state: 'probing', probeId, timer, renewing });
    // A routing key no binding can match (unless one binds `#`: then the probe is routed, never
    // comes back, and the exchange stays `mandatory`). It expires when it would prove nothing more.
    const properties = { messageId: probeId, type: PROBE_TYPE, expiration: this.settings.probeTimeoutMs };
    session
      .publishUnconfirmed(exchange, probeId, Buffer.alloc(0), properties)
      .catch(() => this.unproven(exchange, probeId));
  }

  private unproven(exchange: string, probeId: string): void {
    const proof = this.proofs.get(exchange);
    if (proof?.state !== 'probing' || proof.probeId !== probeId) return;
    clearTimeout(proof.timer);
    this.proofs.set(exchange, {
      state: 'unproven',
      retryAt: this.hooks.now() + this.settings.reprobeIntervalMs,
    });
    this.hooks.warn(
      `no alternate exchange of '${exchange}' routes to ${this.settings.queue}; publishing to it with mandatory`,
      new FerryError(
        'TOPOLOGY_MISMATCH',
        `a probe published to '${exchange}' did not come out of ${this.settings.queue} within ${this.settings.probeTimeoutMs} ms: set a policy with "alternate-exchange": "${this.settings.alternateExchange}" on it`,
      ),
    );
  }

  private forget(): void {
    for (const proof of this.proofs.values()) if (proof.state !== 'unproven') clearTimeout(proof.timer);
    this.proofs.clear();
  }
}
