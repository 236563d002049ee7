/**
 * Throwaway RabbitMQ nodes for destructive tests: each one is a second Erlang node on free ports with
 * its own data folder, so stopping, freezing or killing it never touches the shared broker on 5672.
 *
 * Requires the Debian `rabbitmq-server` package and root (or the `rabbitmq` user): the server scripts
 * drop to `rabbitmq`, so the node's folder is owned by that user. The CLI runs as `rabbitmq` too and
 * authenticates with `/var/lib/rabbitmq/.erlang.cookie`, the same cookie the node gets.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { chown, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FOLDER_PREFIX, OWNER_ENV, OWNER_FILE, removeStaleThrowawayNodes } from './stale-throwaway-nodes.js';

/** TLS listener settings, written into the node's `rabbitmq.conf` as `ssl_options.*`. */
export interface ThrowawayTlsOptions {
  /** Listener port; a free one is picked when omitted. */
  readonly port?: number;
  /** PEM files; they are copied into the node's folder so that the `rabbitmq` user can read them. */
  readonly cacertfile: string;
  readonly certfile: string;
  readonly keyfile: string;
  /** Default `verify_peer` (the server checks a client certificate when one is sent). */
  readonly verify?: 'verify_peer' | 'verify_none';
  /** Default `false`: clients without a certificate are let in. */
  readonly failIfNoPeerCert?: boolean;
}

/** Options for {@link startThrowawayBroker}. */
export interface ThrowawayBrokerOptions {
  /** Readable prefix of the Erlang node name (letters, digits, `-`, `_`); made unique per call. */
  readonly name?: string;
  /** Adds a TLS listener on 127.0.0.1 next to the plain one. */
  readonly tls?: ThrowawayTlsOptions;
  /** More `rabbitmq.conf` lines (`key = value`), after the listener settings. */
  readonly config?: readonly string[];
  /** Erlang terms for the node's `advanced.config` (settings `rabbitmq.conf` cannot make, such as `net_ticktime`). */
  readonly advancedConfig?: string;
  /** How long the node may take to boot, in seconds; default 60 (a loaded machine booting several nodes needs more). */
  readonly startTimeoutSeconds?: number;
}

/** A running throwaway node. Every method targets this node only. */
export interface ThrowawayBroker {
  /** `amqp://guest:guest@127.0.0.1:<port>`; guest may log in because clients come from loopback. */
  readonly url: string;
  readonly port: number;
  /** Present when the node was started with a TLS listener. */
  readonly tls?: { readonly port: number; readonly url: string };
  /** Erlang node name, `<name>-<unique>@localhost`. */
  readonly nodeName: string;
  /** The node's folder (config, data, logs); removed by {@link ThrowawayBroker.stop}. */
  readonly dir: string;
  /**
   * Runs `rabbitmqctl -n <node> ...args` and resolves with its stdout; rejects with stdout and stderr
   * on a non-zero exit or after 30 s. The Debian wrapper re-quotes arguments for `sh -c`, so avoid `$`
   * and backticks in arguments.
   */
  ctl(...args: string[]): Promise<string>;
  /** {@link ThrowawayBroker.ctl} killed after `timeoutMs` instead of 30 s, for steps a loaded machine slows. */
  ctlWithin(timeoutMs: number, ...args: string[]): Promise<string>;
  /** The last `lines` lines of the node's log (default 40), for an error message that says why. */
  logTail(lines?: number): Promise<string>;
  /** OS pid of the node's `beam.smp` (changes on {@link ThrowawayBroker.restart}). */
  pid(): number;
  /** `kill -STOP` of the node: sockets stay open but nothing answers (a frozen or half-open broker). */
  freeze(): void;
  /** `kill -CONT`: undoes {@link ThrowawayBroker.freeze}. */
  unfreeze(): void;
  /** `kill -9` of the node; resolves once the process is gone. Data on disk stays for a restart. */
  kill(): Promise<void>;
  /** Starts the node again on the same ports and data, after {@link ThrowawayBroker.kill} or `ctl('stop')`. */
  restart(): Promise<void>;
  /** Stops the node (killing it if it will not stop) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** Ports of the shared broker and epmd, never handed to a throwaway node. */
const RESERVED_PORTS: ReadonlySet<number> = new Set([4369, 5671, 5672, 15672, 15692, 25672]);
const START_TIMEOUT_SECONDS = 60;
const CTL_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 3;

/** Nodes that must not outlive the test process, even when a test forgets `stop()`. */
const liveNodes = new Map<string, { pid: number | undefined; dir: string }>();
let exitHookInstalled = false;
/** The first start in a process clears what dead test processes left (once: it scans /proc). */
let staleRemoval: Promise<void> | undefined;

/**
 * Starts a throwaway node and resolves once RabbitMQ is running on it (≈7 s here). Picks free ports
 * and retries with others when another test process took one in the meantime.
 */
export async function startThrowawayBroker(options: ThrowawayBrokerOptions = {}): Promise<ThrowawayBroker> {
  installExitHook();
  staleRemoval ??= removeStaleThrowawayNodes().then(({ nodes, folders }) => {
    if (nodes.length + folders.length > 0) {
      process.stderr.write(
        `[throwaway-broker] removed what dead test processes left: nodes ${nodes.join(', ') || 'none'}; ` +
          `folders ${folders.join(', ') || 'none'}\n`,
      );
    }
  });
  await staleRemoval;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (!(error instanceof PortClashError) || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

/** @internal A node failed to bind a port that was free when it was picked. */
class PortClashError extends Error {}

async function startOnce(options: ThrowawayBrokerOptions): Promise<ThrowawayBroker> {
  const prefix = (options.name ?? 'throwaway').replace(/[^A-Za-z0-9_-]/g, '-');
  const nodeName = `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}@localhost`;
  const taken = new Set<number>(options.tls?.port === undefined ? [] : [options.tls.port]);
  const port = await freePort(taken);
  const distPort = await freePort(taken);
  const tlsPort = options.tls ? (options.tls.port ?? (await freePort(taken))) : undefined;

  const owner = await rabbitmqOwner();
  const dir = await mkdtemp(join(tmpdir(), FOLDER_PREFIX));
  // Names this process as the owner, so that a later run can tell the folder is stale if it dies.
  await writeFile(join(dir, OWNER_FILE), String(process.pid));
  const pidFile = join(dir, 'pid');
  const state: { pid: number | undefined; dir: string } = { pid: undefined, dir };
  liveNodes.set(nodeName, state);
  const ctlWithin = (timeoutMs: number, ...args: string[]): Promise<string> =>
    run('rabbitmqctl', ['-n', nodeName, ...args], { timeoutMs });
  const ctl = (...args: string[]): Promise<string> => ctlWithin(CTL_TIMEOUT_MS, ...args);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const { pid } = state;
      if (pid !== undefined && isProcessRunning(pid)) {
        signal(pid, 'SIGCONT');
        await ctl('stop', pidFile).catch(() => undefined);
        if (!(await exited(pid, EXIT_TIMEOUT_MS))) {
          signal(pid, 'SIGKILL');
          await exited(pid, EXIT_TIMEOUT_MS);
        }
      }
      await rm(dir, { recursive: true, force: true });
      liveNodes.delete(nodeName);
    })();
    return stopping;
  };

  let launch: () => Promise<void>;
  try {
    launch = await prepareNode({
      nodeName,
      dir,
      pidFile,
      owner,
      port,
      distPort,
      tls: options.tls,
      tlsPort,
      config: options.config ?? [],
      advancedConfig: options.advancedConfig,
      startTimeoutSeconds: options.startTimeoutSeconds ?? START_TIMEOUT_SECONDS,
      state,
    });
    await launch();
  } catch (error) {
    await stop();
    throw error;
  }

  const currentPid = (): number => {
    if (state.pid === undefined) throw new Error(`throwaway node ${nodeName} has no pid file`);
    return state.pid;
  };
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    ...(tlsPort === undefined
      ? {}
      : { tls: { port: tlsPort, url: `amqps://guest:guest@127.0.0.1:${tlsPort}` } }),
    nodeName,
    dir,
    ctl,
    ctlWithin,
    logTail: (lines) => logTail(dir, nodeName, lines),
    pid: currentPid,
    freeze: () => signal(currentPid(), 'SIGSTOP'),
    unfreeze: () => signal(currentPid(), 'SIGCONT'),
    kill: async () => {
      const pid = currentPid();
      signal(pid, 'SIGKILL');
      if (!(await exited(pid, EXIT_TIMEOUT_MS))) throw new Error(`beam.smp ${pid} survived SIGKILL`);
    },
    restart: launch,
    stop,
  };
}

/** @internal Everything {@link prepareNode} needs to lay out a node's folder. */
interface NodeLayout {
  readonly nodeName: string;
  readonly dir: string;
  readonly pidFile: string;
  readonly owner: { uid: number; gid: number };
  readonly port: number;
  readonly distPort: number;
  readonly tls: ThrowawayTlsOptions | undefined;
  readonly tlsPort: number | undefined;
  readonly config: readonly string[];
  readonly advancedConfig: string | undefined;
  readonly startTimeoutSeconds: number;
  /** Receives the node's OS pid after every launch. */
  readonly state: { pid: number | undefined };
}

/**
 * Writes the node's folder (owned by `rabbitmq`, which the server drops to and without write access
 * dies silently) and returns a function that launches the node and waits until RabbitMQ runs on it.
 */
async function prepareNode(layout: NodeLayout): Promise<() => Promise<void>> {
  const { nodeName, dir, pidFile, owner, state } = layout;
  await chown(dir, owner.uid, owner.gid);
  const writeOwned = async (name: string, content: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, content);
    await chown(path, owner.uid, owner.gid);
    return path;
  };
  const config = [`listeners.tcp.local = 127.0.0.1:${layout.port}`];
  if (layout.tls && layout.tlsPort !== undefined) {
    config.push(...(await tlsConfig(dir, owner, layout.tls, layout.tlsPort)));
  }
  config.push(...layout.config);
  // Our own config file also keeps the node away from /etc/rabbitmq/rabbitmq.conf, whose listener
  // setting (127.0.0.1:5672 here) wins over RABBITMQ_NODE_PORT and would clash with the shared broker.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_PORT: String(layout.port),
    RABBITMQ_DIST_PORT: String(layout.distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: pidFile,
    RABBITMQ_ENABLED_PLUGINS_FILE: await writeOwned('enabled_plugins', '[].\n'),
    RABBITMQ_CONFIG_FILE: await writeOwned('rabbitmq.conf', `${config.join('\n')}\n`),
    RABBITMQ_ADVANCED_CONFIG_FILE:
      layout.advancedConfig === undefined
        ? join(dir, 'advanced.config')
        : await writeOwned('advanced.config', `${layout.advancedConfig}\n`),
    ERL_CRASH_DUMP: join(dir, 'erl_crash.dump'),
    [OWNER_ENV]: String(process.pid),
  };
  return async () => {
    // A pid file left by a killed node would make `wait` watch a dead process.
    await rm(pidFile, { force: true });
    await run('rabbitmq-server', ['-detached'], { timeoutMs: CTL_TIMEOUT_MS, env });
    try {
      // Unlike await_startup, `wait` tolerates a node that has not registered yet and fails as soon
      // as the process dies (a node that cannot start dies silently, detached).
      const seconds = layout.startTimeoutSeconds;
      const wait = ['-n', nodeName, 'wait', pidFile, '--timeout', String(seconds)];
      await run('rabbitmqctl', wait, { timeoutMs: (seconds + 15) * 1000 });
    } catch (error) {
      const log = await logTail(dir, nodeName);
      const clash = /eaddrinuse|dist_port_already_used/.test(log);
      const message = `throwaway node ${nodeName} did not start: ${errorMessage(error)}\n--- log ---\n${log}`;
      throw clash ? new PortClashError(message) : new Error(message);
    } finally {
      state.pid = await readPid(pidFile);
    }
  };
}

/** Copies the PEM files where the `rabbitmq` user can read them and returns the config lines. */
async function tlsConfig(
  dir: string,
  owner: { uid: number; gid: number },
  tls: ThrowawayTlsOptions,
  port: number,
): Promise<string[]> {
  const tlsDir = join(dir, 'tls');
  await mkdir(tlsDir);
  await chown(tlsDir, owner.uid, owner.gid);
  const copy = async (source: string, name: string): Promise<string> => {
    const target = join(tlsDir, name);
    await copyFile(source, target);
    await chown(target, owner.uid, owner.gid);
    return target;
  };
  return [
    `listeners.ssl.local = 127.0.0.1:${port}`,
    `ssl_options.cacertfile = ${await copy(tls.cacertfile, 'ca.pem')}`,
    `ssl_options.certfile = ${await copy(tls.certfile, 'server.pem')}`,
    `ssl_options.keyfile = ${await copy(tls.keyfile, 'server.key')}`,
    `ssl_options.verify = ${tls.verify ?? 'verify_peer'}`,
    `ssl_options.fail_if_no_peer_cert = ${tls.failIfNoPeerCert ?? false}`,
  ];
}

/** PEM files made by {@link generateTestCertificates}. */
export interface TestCertificates {
  readonly caCertFile: string;
  readonly caKeyFile: string;
  /** For `localhost` and `127.0.0.1`. */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** CN `ferry-test-client`, for brokers that require a peer certificate. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

/** Whether the `openssl` CLI can be run (needed by {@link generateTestCertificates}). */
export async function isOpensslAvailable(): Promise<boolean> {
  return run('openssl', ['version'], { timeoutMs: 10_000 }).then(
    () => true,
    () => false,
  );
}

/**
 * Makes a throwaway CA, a server certificate and a client certificate (RSA 2048, valid two days) in
 * `dir` with the `openssl` CLI.
 */
export async function generateTestCertificates(dir: string): Promise<TestCertificates> {
  await mkdir(dir, { recursive: true });
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): Promise<string> => run('openssl', args, { timeoutMs: 30_000 });
  await openssl(
    ...'req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ferry-test-ca'.split(' '),
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ...['-keyout', path('ca.key'), '-out', path('ca.pem')],
  );
  const issue = async (name: string, commonName: string, extensions: string): Promise<void> => {
    await writeFile(path(`${name}.ext`), extensions);
    await openssl(
      ...['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${commonName}`],
      ...['-keyout', path(`${name}.key`), '-out', path(`${name}.csr`)],
    );
    await openssl(
      ...['x509', '-req', '-in', path(`${name}.csr`), '-CA', path('ca.pem'), '-CAkey', path('ca.key')],
      ...['-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2'],
      ...['-extfile', path(`${name}.ext`), '-out', path(`${name}.pem`)],
    );
  };
  const leaf = 'basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n';
  await issue(
    'server',
    'localhost',
    `${leaf}extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n`,
  );
  await issue('client', 'ferry-test-client', `${leaf}extendedKeyUsage = clientAuth\n`);
  return {
    caCertFile: path('ca.pem'),
    caKeyFile: path('ca.key'),
    serverCertFile: path('server.pem'),
    serverKeyFile: path('server.key'),
    clientCertFile: path('client.pem'),
    clientKeyFile: path('client.key'),
  };
}

/**
 * Runs a command in its own process group and kills the whole group on timeout: the rabbitmqctl
 * wrapper forks `su` and an Erlang VM, which would otherwise keep the pipes (and the promise) open.
 */
function run(
  file: string,
  args: string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) signal(-child.pid, 'SIGKILL');
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const command = [file, ...args].join(' ');
      if (timedOut)
        reject(new Error(`${command}: timed out after ${options.timeoutMs} ms\n${stdout}${stderr}`));
      else if (code !== 0) reject(new Error(`${command}: exit ${code}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** A free port on 127.0.0.1 that is neither reserved nor in `taken`; adds it to `taken`. */
async function freePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    if (port !== 0 && !RESERVED_PORTS.has(port) && !taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

/** uid and gid of the `rabbitmq` user, which the server scripts switch to. */
async function rabbitmqOwner(): Promise<{ uid: number; gid: number }> {
  const entry = await run('getent', ['passwd', 'rabbitmq'], { timeoutMs: 10_000 }).catch(() => '');
  const [, , uid, gid] = entry.trim().split(':');
  if (uid === undefined || gid === undefined) {
    throw new Error('no `rabbitmq` user: install rabbitmq-server (scripts/ensure-services.sh does)');
  }
  return { uid: Number(uid), gid: Number(gid) };
}

async function readPid(pidFile: string): Promise<number | undefined> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isNaN(pid) ? undefined : pid;
}

async function logTail(dir: string, nodeName: string, lines = 40): Promise<string> {
  const log = await readFile(join(dir, 'log', `${nodeName}.log`), 'utf8').catch(() => '(no log written)');
  return log.split('\n').slice(-lines).join('\n');
}

/**
 * Whether `pid` still holds resources: present in /proc and not a finished zombie. A killed node
 * lingers as a zombie until init reaps it, and its main thread turns zombie while other threads are
 * still exiting with the sockets open, so only a zombie with one thread left counts as gone.
 */
export function isProcessRunning(pid: number): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false;
  }
  const zombie = /^State:\s+Z/m.test(status);
  const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? '1');
  return !(zombie && threads <= 1);
}

/** Polls until `pid` is gone or the deadline passes; resolves whether it is gone. */
async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessRunning(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Kills leftover nodes when the test process exits without having stopped them, also when it is
 * ended by SIGTERM, SIGINT or SIGHUP (a CI timeout, Ctrl-C), which skip `exit` handlers: the signal is
 * raised again once the nodes are gone. Only `kill -9` of the test process escapes this; the next run's
 * {@link removeStaleThrowawayNodes} finds what it left.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const { pid, dir } of liveNodes.values()) {
      if (pid !== undefined) {
        signal(pid, 'SIGCONT');
        signal(pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    }
    liveNodes.clear();
  };
  process.once('exit', killAll);
  for (const name of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(name, () => {
      killAll();
      process.kill(process.pid, name);
    });
  }
}
