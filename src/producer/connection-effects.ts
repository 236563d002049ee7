/**
 * The connection machine's effects: connecting (a session, the topology declared, handed to the hot
 * path), watching the session's signals, the health check, and the graceful or forced close.
 *
 * @internal
 */
import type { ConnectedEndpoint, ConnectionEvent } from '../../machines/connection.machine.js';
import { toFailure } from '../../machines/failure.js';
import type { AmqpConnectOptions, BrokerPort, BrokerSession } from '../amqp/ports.js';
import type { Topology } from '../amqp/topology.js';
import { FerryError } from '../errors.js';
import type { Publisher } from './publisher.js';
import type { ConnectionSignal } from './publisher-ports.js';

/** What {@link ConnectionEffects} works with. */
export interface ConnectionEffectsDependencies {
  readonly broker: BrokerPort;
  readonly publisher: Publisher;
  /** A connection attempt begins (for observers). */
  readonly connecting: () => void;
  /** A session is connected and attached to the hot path (the alternate-exchange catcher follows it). */
  readonly connected: (session: BrokerSession) => void;
}

/** Where connecting goes, and what it declares. */
export interface ConnectionEffectsSettings {
  readonly connect: AmqpConnectOptions;
  /** `null`: the user owns the topology. */
  readonly topology: Topology | null;
  readonly healthCheckExchange: string;
}

/**
 * The connection machine's actors and actions, backed by the broker port and the hot path.
 *
 * @internal
 */
export class ConnectionEffects {
  /** The connection machine's `watch` actor, while it runs. */
  private sink: ((event: ConnectionEvent) => void) | null = null;

  constructor(
    private readonly dependencies: ConnectionEffectsDependencies,
    private readonly settings: ConnectionEffectsSettings,
  ) {}

  /** `connection.connect`: opens a session, declares the topology, hands the session to the hot path. */
  async connect(signal: AbortSignal): Promise<ConnectedEndpoint> {
    const { publisher, broker } = this.dependencies;
    this.dependencies.connecting();
    publisher.detach(new FerryError('CONNECTION_LOST', 'replaced by a new connection'));
    const session = await broker.connect(this.settings.connect, signal);
    const abandon = (): void => session.destroy();
    signal.addEventListener('abort', abandon, { once: true });
    try {
      session.setListener(publisher);
      if (this.settings.topology !== null) await session.declare(this.settings.topology);
      if (signal.aborted) throw new FerryError('CONNECT_TIMEOUT', 'connecting took longer than the timeout');
    } catch (error) {
      session.destroy();
      throw FerryError.from(error);
    } finally {
      signal.removeEventListener('abort', abandon);
    }
    publisher.attach(session);
    this.dependencies.connected(session);
    return { endpoint: session.endpoint };
  }

  /** `connection.watch`: delivers the session's signals until the returned function is called. */
  watch(sink: (event: ConnectionEvent) => void): () => void {
    this.sink = sink;
    return () => {
      if (this.sink === sink) this.sink = null;
    };
  }

  /** A signal from the hot path's session, for the connection machine. */
  signal(event: ConnectionSignal): void {
    this.sink?.(
      event.type === 'connection.lost' ? { type: event.type, failure: toFailure(event.failure) } : event,
    );
  }

  /** `connection.healthCheck`. */
  healthCheck(): Promise<void> {
    const session = this.dependencies.publisher.current;
    if (session === null) return Promise.reject(new FerryError('CONNECTION_LOST', 'no session to check'));
    return session.checkExchange(this.settings.healthCheckExchange);
  }

  /** `connection.disconnect`: the graceful close. */
  async disconnect(): Promise<void> {
    const { publisher } = this.dependencies;
    const session = publisher.current;
    publisher.detachGracefully();
    await session?.close();
  }

  /** `connection.dropConnection`: destroys whatever is left of the session. */
  dropConnection(): void {
    this.dependencies.publisher.detach(
      new FerryError('CONNECTION_LOST', 'the connection was given up and will be reopened'),
    );
  }
}
