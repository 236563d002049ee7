/**
 * WAL checkpoints on a worker thread. sqlite runs a checkpoint inside whichever commit takes the WAL
 * past 1,000 pages, so that commit blocks the event loop while pages are copied into the database
 * file: at 5,000 messages in flight, commits blocked it ≈40 % less with automatic checkpoints off
 * (`bench/journal.ts`). The journal turns them off and this worker, on a connection of its own,
 * checkpoints every {@link CHECKPOINT_INTERVAL_MS} (`PASSIVE`: it never waits for the writer).
 * Durability is unchanged: a checkpoint copies committed pages only. Should the worker fail, the
 * journal turns automatic checkpoints back on.
 *
 * A passive checkpoint never waits, so under a steady stream of commits it may never reach the WAL's
 * end, and the WAL only grows (hundreds of MB under a sustained load). Once the WAL file is larger
 * than {@link WAL_TRUNCATE_BYTES}, the worker runs a `TRUNCATE` checkpoint instead: it waits (up to
 * its busy timeout) for a gap between commits, copies everything, and empties the WAL file.
 *
 * @internal
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints, ms. */
export const CHECKPOINT_INTERVAL_MS = 100;

/** A WAL file larger than this is checkpointed with `TRUNCATE`, bytes (32 MiB). */
export const WAL_TRUNCATE_BYTES = 32 * 1024 * 1024;

/** The worker's code: CommonJS, run with `eval` so that it needs no file of its own next to the build. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const walBytes = () => {
  try {
    return statSync(workerData.path + '-wal').size;
  } catch {
    return 0;
  }
};
const timer = setInterval(() => {
  const mode = walBytes() > workerData.truncateBytes ? 'TRUNCATE' : 'PASSIVE';
  db.pragma('wal_checkpoint(' + mode + ')');
}, workerData.intervalMs);
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
  constructor(path: string, onFailure: (error: Error) => void, truncateBytes: number = WAL_TRUNCATE_BYTES) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path, driver, intervalMs: CHECKPOINT_INTERVAL_MS, truncateBytes },
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
