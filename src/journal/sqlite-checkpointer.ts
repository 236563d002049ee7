/**
 * WAL checkpoints on a worker thread. sqlite runs a checkpoint inside whichever commit takes the WAL
 * past 1,000 pages, so that commit blocks the event loop while pages are copied into the database
 * file: at 5,000 messages in flight, commits blocked it ≈40 % less with automatic checkpoints off
 * (`bench/journal.ts`). The journal turns them off and this worker, on a connection of its own,
 * checkpoints every {@link CHECKPOINT_INTERVAL_MS} (`PASSIVE`: it never waits for the writer).
 * Durability is unchanged: a checkpoint copies committed pages only. Should the worker fail, the
 * journal turns automatic checkpoints back on.
 *
 * @internal
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints, ms. */
export const CHECKPOINT_INTERVAL_MS = 100;

/** The worker's code: CommonJS, run with `eval` so that it needs no file of its own next to the build. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * A running checkpoint worker for one journal file.
 *
 * @internal
 */
export class SqliteCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private stopping = false;

  /** `onFailure` is told once if the worker dies before {@link stop}: checkpoint on the writer again. */
  constructor(path: string, onFailure: (error: Error) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path, driver, intervalMs: CHECKPOINT_INTERVAL_MS },
    });
    // A process that only has its journal left to close must not be kept alive by the worker.
    this.worker.unref();
    let failed = false;
    const fail = (error: Error): void => {
      if (this.stopping || failed) return;
      failed = true;
      onFailure(error);
    };
    this.worker.once('error', fail);
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        if (code !== 0) fail(new Error(`the checkpoint worker exited with code ${code}`));
        resolve();
      });
    });
  }

  /** Stops checkpointing and closes the worker's connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    // Waited for: the process must not end with the worker's connection open.
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.exited;
  }
}
