/**
 * vitest's global setup: before any suite runs, checks once that the services the tests use answer
 * on 127.0.0.1 — RabbitMQ, Redis, PostgreSQL — and stops the run with one line naming what is missing
 * and the command that starts it, instead of hundreds of connection errors. `FERRY_TEST_SERVICES=skip`
 * leaves the check out (to run the unit suites alone on a machine without them).
 */
import { connect } from 'node:net';

/** A service the tests use: where it answers and what starts it. */
export interface TestService {
  readonly name: string;
  readonly port: number;
  readonly start: string;
}

/** The services, in the order they are reported. */
export const TEST_SERVICES: readonly TestService[] = [
  {
    name: 'RabbitMQ',
    port: 5672,
    start: 'scripts/ensure-services.sh (as root), or: rabbitmq-server -detached',
  },
  {
    name: 'Redis',
    port: 6379,
    start: 'scripts/ensure-services.sh (as root), or: redis-server --daemonize yes',
  },
  {
    name: 'PostgreSQL',
    port: 5432,
    start:
      'apt-get install postgresql && pg_ctlcluster --skip-systemctl-redirect 15 main start (trust auth, user postgres)',
  },
];

/** Whether something accepts TCP connections on 127.0.0.1:`port` within `timeoutMs`. */
export function answers(port: number, timeoutMs = 1_500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: timeoutMs });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** The one line that says what is missing, or `null` when every service answers. */
export async function missingServices(
  services: readonly TestService[] = TEST_SERVICES,
): Promise<string | null> {
  const checked = await Promise.all(
    services.map(async (service) => ({ service, up: await answers(service.port) })),
  );
  const missing = checked.filter(({ up }) => !up).map(({ service }) => service);
  if (missing.length === 0) return null;
  return `the tests need ${missing
    .map((service) => `${service.name} on 127.0.0.1:${service.port} (start it: ${service.start})`)
    .join('; ')}; set FERRY_TEST_SERVICES=skip to run anyway`;
}

/** vitest global setup. */
export default async function setup(): Promise<void> {
  if (process.env.FERRY_TEST_SERVICES === 'skip') return;
  const missing = await missingServices();
  if (missing !== null) throw new Error(missing);
}
