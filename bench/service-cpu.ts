/**
 * The CPU time the machine's shared RabbitMQ and PostgreSQL spend, read from `/proc`, so that a bench
 * can say where a message's cycles go on cores the client shares with both: the broker is the process
 * listening on 5672, PostgreSQL the postmaster on 5432 with every backend it forked (a backend that
 * ended during the run is in the postmaster's reaped-children time). Linux only; elsewhere, and when a
 * process cannot be read, a figure is `undefined` rather than a guess.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds spent so far by each service, or `undefined` where it could not be read. */
export interface ServiceCpu {
  readonly broker: number | undefined;
  readonly postgres: number | undefined;
}

const TICKS_PER_SECOND = 100;

/** Pids by port, looked up once: the shared services are not restarted while a bench runs. */
const listeners = new Map<number, number | undefined>();

/**
 * The pid listening on 127.0.0.1:`port`, from `ss` the first time (a process start of a few ms, which
 * a reading taken inside a timed burst would otherwise pay each time).
 */
function listener(port: number): number | undefined {
  if (!listeners.has(port)) listeners.set(port, lookUpListener(port));
  return listeners.get(port);
}

function lookUpListener(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const pid = /pid=(\d+)/.exec(out)?.[1];
    return pid === undefined ? undefined : Number(pid);
  } catch {
    return undefined;
  }
}

/** `/proc/<pid>/stat`'s fields after the command name: [state, ppid, …]. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

// Field numbers of proc(5) less 3 (pid, comm and state come first; state is index 0 here).
const PPID = 1;
const UTIME = 11;
const STIME = 12;
const CUTIME = 13;
const CSTIME = 14;

function ticks(fields: readonly string[], ...at: number[]): number {
  return at.reduce((sum, index) => sum + Number(fields[index] ?? 0), 0);
}

/** Reads both services' CPU seconds now. */
export function serviceCpu(): ServiceCpu {
  const brokerPid = listener(5672);
  const broker = brokerPid === undefined ? undefined : statFields(brokerPid);
  const postmaster = listener(5432);
  let postgres: number | undefined;
  const own = postmaster === undefined ? undefined : statFields(postmaster);
  if (own !== undefined) {
    postgres = ticks(own, UTIME, STIME, CUTIME, CSTIME);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const fields = statFields(Number(entry));
      if (fields !== undefined && Number(fields[PPID]) === postmaster)
        postgres += ticks(fields, UTIME, STIME);
    }
  }
  return {
    broker: broker === undefined ? undefined : ticks(broker, UTIME, STIME) / TICKS_PER_SECOND,
    postgres: postgres === undefined ? undefined : postgres / TICKS_PER_SECOND,
  };
}

/** Each service's CPU µs per message over a run: `undefined` where unread, or in older reports. */
export interface ServiceMicros {
  readonly brokerMicros?: number | undefined;
  readonly postgresMicros?: number | undefined;
}

/** Each service's CPU µs per message between two readings, `undefined` where either was unread. */
export function perMessage(from: ServiceCpu, to: ServiceCpu, messages: number): ServiceMicros {
  const per = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : ((b - a) * 1e6) / messages;
  return { brokerMicros: per(from.broker, to.broker), postgresMicros: per(from.postgres, to.postgres) };
}
