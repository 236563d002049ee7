/**
 * One bench child process run to completion: forked from the compiled bench (no TypeScript loader, so
 * none counts towards the child's CPU), its stderr's tail kept for the error, a deadline, and its
 * `result` or `error` message. bench/run.ts and bench/cluster.ts both run their children through it.
 */
import { type ChildProcess, fork } from 'node:child_process';

/** The child running now, killed if the bench is interrupted. */
let activeChild: ChildProcess | undefined;

/** Kills the child running now, if any (a bench's clean-up on a signal or a failure). */
export function killActiveChild(): void {
  activeChild?.kill('SIGKILL');
}

/** A message a bench child sends over IPC; types other than `result` and `error` go to `onOther`. */
interface ChildReport<M> {
  readonly type: string;
  readonly measurement?: M;
  readonly message?: string;
}

/** What a run needs besides the child's path and its job. */
export interface ChildRunSettings {
  /** Named in the error when the run fails. */
  readonly label: string;
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly execArgv?: readonly string[];
  /** Another message from the child; `fail` ends the run with that reason. */
  readonly onOther?: (
    message: { readonly type: string },
    child: ChildProcess,
    fail: (reason: string) => void,
  ) => void;
}

/** Runs `childPath` with `job` as its one argument and resolves with the measurement it reports. */
export function runChild<M>(childPath: string, job: unknown, settings: ChildRunSettings): Promise<M> {
  return new Promise((resolve, reject) => {
    const child = fork(childPath, [JSON.stringify(job)], {
      execArgv: [...(settings.execArgv ?? [])],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      cwd: settings.cwd,
    });
    activeChild = child;
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4_000);
    });
    let measurement: M | undefined;
    let failure: string | undefined;
    const fail = (reason: string): void => {
      failure = reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => fail(`timed out after ${settings.timeoutMs} ms`), settings.timeoutMs);
    child.on('message', (message: ChildReport<M>) => {
      if (message.type === 'result') measurement = message.measurement;
      else if (message.type === 'error') failure = message.message;
      else settings.onOther?.(message, child, fail);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (activeChild === child) activeChild = undefined;
      if (measurement !== undefined) resolve(measurement);
      else reject(new Error(`${settings.label}: ${failure ?? `exit ${code}`}\n${stderr}`));
    });
  });
}
