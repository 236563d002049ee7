/**
 * A fault-injecting TCP proxy on 127.0.0.1, in the spirit of Toxiproxy (which has no package here):
 * it sits between ferry and a broker and, switched at runtime, adds latency with jitter, limits the
 * bandwidth, drops every byte while keeping the sockets open (a blackhole, a half-open peer), resets
 * (RST) or closes the open connections, and refuses new ones. Without a target it stands in for a
 * broker that accepts and never answers (`silent`) or hangs up at once (`hang-up`).
 */
import net from 'node:net';

/** What the proxy does with a new client connection. */
export type ProxyMode =
  /** Forward to the target. */
  | 'proxy'
  /** Accept and never answer. */
  | 'silent'
  /** Accept and close at once. */
  | 'hang-up';

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /** Port of the upstream broker on 127.0.0.1; required in `proxy` mode (the default). */
  readonly targetPort?: number;
  readonly mode?: ProxyMode;
  /** Source of jitter; a seeded generator makes a run replayable. `Math.random` by default. */
  readonly random?: () => number;
}

/** The faults in force; every field off by default. */
export interface Faults {
  /** Extra delay of every chunk, each way, ms. */
  readonly latencyMs?: number;
  /** Uniform jitter of ± this many ms around `latencyMs` (order is kept). */
  readonly jitterMs?: number;
  /** Bytes per second, each way; 0 is unlimited. */
  readonly bytesPerSecond?: number;
  /** Drop every byte both ways and hold every close back: both peers see silence, not an end. */
  readonly blackhole?: boolean;
  /** Drop only broker → client bytes: the client misses heartbeats while the broker hears it. */
  readonly stallDownstream?: boolean;
}

/** One direction of one connection: bytes are written in order, each chunk no earlier than its time. */
class Pipe {
  private readonly queue: { readonly chunk: Buffer; readonly at: number }[] = [];
  private lastAt = 0;
  private wireFreeAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly to: net.Socket,
    private readonly proxy: FaultProxy,
  ) {}

  push(chunk: Buffer): void {
    const { latencyMs = 0, jitterMs = 0, bytesPerSecond = 0 } = this.proxy.faults;
    const now = Date.now();
    if (latencyMs === 0 && jitterMs === 0 && bytesPerSecond === 0 && this.queue.length === 0) {
      this.write(chunk);
      return;
    }
    const jitter = jitterMs === 0 ? 0 : (this.proxy.random() * 2 - 1) * jitterMs;
    let at = Math.max(now + Math.max(0, latencyMs + jitter), this.lastAt);
    if (bytesPerSecond > 0) {
      this.wireFreeAt = Math.max(this.wireFreeAt, now) + (chunk.byteLength * 1000) / bytesPerSecond;
      at = Math.max(at, this.wireFreeAt);
    }
    this.lastAt = at;
    this.queue.push({ chunk, at });
    this.schedule();
  }

  /** Drops what is queued (a blackhole swallows bytes already in transit too). */
  clear(): void {
    this.queue.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const head = this.queue[0];
    if (head === undefined) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, head.at - Date.now()));
  }

  private flush(): void {
    this.timer = undefined;
    const now = Date.now();
    while (this.queue.length > 0 && (this.queue[0] as { at: number }).at <= now) {
      this.write((this.queue.shift() as { chunk: Buffer }).chunk);
    }
    this.schedule();
  }

  private write(chunk: Buffer): void {
    if (!this.to.destroyed) this.to.write(chunk);
  }
}

/** A client connection and its upstream, with the closes held back during a blackhole. */
interface Link {
  readonly client: net.Socket;
  readonly upstream: net.Socket | undefined;
  readonly pipes: Pipe[];
  /** A side ended while the blackhole held the news back; delivered on {@link FaultProxy.heal}. */
  heldClose: boolean;
}

/**
 * The proxy. Counts the client connections it accepted and has open; every fault can be switched on
 * and off while connections are open, and applies to them at once.
 */
export class FaultProxy {
  /** Client connections accepted since start. */
  accepted = 0;
  /** The faults in force; change them with {@link FaultProxy.set} and {@link FaultProxy.heal}. */
  faults: Faults = {};
  readonly random: () => number;
  private readonly links = new Set<Link>();
  private server: net.Server;
  private listeningPort = 0;

  private constructor(private readonly options: FaultProxyOptions) {
    this.random = options.random ?? Math.random;
    this.server = this.createServer();
  }

  /** Starts listening on a free port of 127.0.0.1. */
  static async start(options: FaultProxyOptions = {}): Promise<FaultProxy> {
    if ((options.mode ?? 'proxy') === 'proxy' && options.targetPort === undefined) {
      throw new Error('a proxy needs a targetPort');
    }
    const proxy = new FaultProxy(options);
    await proxy.listen(0);
    return proxy;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** `amqp://guest:guest@127.0.0.1:<port>`. */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** Client connections open now. */
  get open(): number {
    return this.links.size;
  }

  /** Adds faults to the ones in force (`{ latencyMs: 0 }` turns one off). */
  set(faults: Faults): void {
    const wasBlackhole = this.faults.blackhole === true;
    this.faults = { ...this.faults, ...faults };
    if (!wasBlackhole && this.faults.blackhole === true) {
      for (const link of this.links) for (const pipe of link.pipes) pipe.clear();
    }
    if (wasBlackhole && this.faults.blackhole !== true) this.deliverHeldCloses();
  }

  /** Drops everything broker → client from now on (kept as a name: the amqp tests' heartbeat fault). */
  stall(): void {
    this.set({ stallDownstream: true });
  }

  /** Ends every fault: bytes flow at full speed, closes held back by a blackhole are delivered. */
  heal(): void {
    this.set({ latencyMs: 0, jitterMs: 0, bytesPerSecond: 0, blackhole: false, stallDownstream: false });
  }

  /** Resets every open connection: the client gets an RST (`ECONNRESET`), the broker a closed socket. */
  reset(): void {
    for (const link of [...this.links]) {
      link.client.resetAndDestroy();
      link.upstream?.destroy();
    }
  }

  /** Closes every open connection with a FIN, as a peer that hangs up. */
  closeAll(): void {
    for (const link of [...this.links]) {
      link.client.end();
      link.upstream?.end();
    }
  }

  /** Stops listening at once (new connections get `ECONNREFUSED`); open connections stay. */
  refuse(): void {
    // close() stops accepting now; its callback would wait for the open connections to end.
    if (this.server.listening) this.server.close();
  }

  /** Listens again on the same port after {@link FaultProxy.refuse}. */
  async accept(): Promise<void> {
    if (this.server.listening) return;
    this.server = this.createServer();
    await this.listen(this.listeningPort);
  }

  /** Closes every connection and the listener. */
  async stop(): Promise<void> {
    const server = this.server;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const link of [...this.links]) {
      link.client.destroy();
      link.upstream?.destroy();
    }
    await closed;
  }

  private createServer(): net.Server {
    return net.createServer((client) => this.onClient(client));
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.listeningPort = (this.server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private onClient(client: net.Socket): void {
    this.accepted += 1;
    client.on('error', () => undefined);
    const mode = this.options.mode ?? 'proxy';
    if (mode === 'hang-up') {
      client.destroy();
      return;
    }
    if (mode === 'silent') {
      const link: Link = { client, upstream: undefined, pipes: [], heldClose: false };
      this.links.add(link);
      client.resume();
      client.on('close', () => this.links.delete(link));
      return;
    }
    const upstream = net.connect(this.options.targetPort as number, '127.0.0.1');
    upstream.on('error', () => undefined);
    const toUpstream = new Pipe(upstream, this);
    const toClient = new Pipe(client, this);
    const link: Link = { client, upstream, pipes: [toUpstream, toClient], heldClose: false };
    this.links.add(link);
    client.on('data', (chunk: Buffer) => {
      if (this.faults.blackhole !== true) toUpstream.push(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.faults.blackhole !== true && this.faults.stallDownstream !== true) toClient.push(chunk);
    });
    const onClose = (): void => {
      if (this.faults.blackhole === true) {
        link.heldClose = true;
        return;
      }
      this.closeLink(link);
    };
    client.on('close', onClose);
    upstream.on('close', onClose);
  }

  private closeLink(link: Link): void {
    for (const pipe of link.pipes) pipe.clear();
    link.client.destroy();
    link.upstream?.destroy();
    this.links.delete(link);
  }

  private deliverHeldCloses(): void {
    for (const link of [...this.links]) {
      if (link.heldClose) this.closeLink(link);
    }
  }
}

/** A port nothing listens on (bound and released), for `ECONNREFUSED`. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
