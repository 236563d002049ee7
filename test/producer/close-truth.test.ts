/**
 * What close() promises, told truthfully: it drains messages still being accepted, a memory journal's
 * drop is counted and said, start() after close() is refused, state$ ends on `closed`, and a clean
 * close raises no process warning.
 */
import { afterEach, expect, it } from 'vitest';
import { ML_TOPOLOGY } from '../../src/amqp/topology.js';
import { FerryError } from '../../src/errors.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import type { SupervisorSummary } from '../../src/producer/status.js';
import { eventually, rejection, rig, startedRig, task } from './helpers.js';

const warnings: Error[] = [];
const onWarning = (warning: Error): void => {
  if (warning.name.startsWith('Ferry')) warnings.push(warning);
};
process.on('warning', onWarning);
afterEach(() => {
  warnings.length = 0;
});

/** A memory journal whose commits wait until the test lets them go. */
class SlowCommitJournal extends MemoryJournal {
  private release: (() => void) | null = null;
  committing = 0;

  override commit(): Promise<void> {
    this.committing += 1;
    return new Promise((resolve) => {
      this.release = resolve;
    });
  }

  finishCommit(): void {
    this.release?.();
  }
}

it('close() waits for a message whose journal commit is under way, then sends it', async () => {
  const journal = new SlowCommitJournal();
  const { producer, broker } = rig({}, undefined, journal);
  await producer.start();
  broker.responder = () => 'ack';
  const accepting = producer.publish(task(1));
  await eventually(() => journal.committing === 1, 'the commit to start');
  const closing = producer.close({ timeoutMs: 5_000 });
  journal.finishCommit();
  const receipt = await accepting;
  await expect(receipt.settled).resolves.toBe('confirmed');
  await expect(closing).resolves.toEqual({ dropped: 0 });
  expect(broker.session.publishesOf('m-1')).toHaveLength(1);
});

it('close() on the memory journal counts the unconfirmed messages it drops, and says so', async () => {
  const { producer } = await startedRig();
  const receipt = await producer.publish(task(1));
  const settled = receipt.settled;
  await expect(producer.close({ timeoutMs: 0 })).resolves.toEqual({ dropped: 1 });
  const error = await rejection(settled);
  expect(error.code).toBe('CLOSED');
  expect(error.message).toContain('lost');
  await new Promise((resolve) => setImmediate(resolve));
  expect(warnings.map((w) => w.message)).toEqual([expect.stringContaining('dropped 1 unconfirmed')]);
});

it('start() after close() rejects CLOSED', async () => {
  const { producer } = rig();
  await producer.close();
  const error = await rejection(producer.start());
  expect(error).toBeInstanceOf(FerryError);
  expect(error.code).toBe('CLOSED');
});

it('state$ completes once the producer is closed, with `closed` its last state', async () => {
  const { producer } = await startedRig();
  const states: SupervisorSummary['state'][] = [];
  let completed = false;
  producer.state$.subscribe({
    next: (summary) => states.push(summary.state),
    complete: () => {
      completed = true;
    },
  });
  await producer.close();
  expect(completed).toBe(true);
  expect(states.at(-1)).toBe('closed');
  expect(producer.status().state).toBe('closed');
});

it('a clean close after a dead-lettered message raises no process warning', async () => {
  const { producer, broker } = await startedRig({
    topology: { declare: ML_TOPOLOGY },
    retry: { maxAttempts: 1 },
  });
  const session = broker.session;
  // The re-declaration a return asks for hangs until the connection closes, then fails as it would.
  const hanging: ((error: Error) => void)[] = [];
  session.declaration = () => new Promise((_, reject) => hanging.push(reject));
  const close = session.close.bind(session);
  session.close = () => {
    for (const reject of hanging) reject(new FerryError('CONNECTION_LOST', 'Connection closing'));
    return close();
  };
  const receipt = await producer.publish(task(1));
  session.returnMessage('m-1', 312, 'NO_ROUTE');
  session.ack(1);
  await eventually(() => session.published.length === 2, 'the dead-letter hand-off');
  session.ack(2);
  await expect(receipt.settled).resolves.toBe('dead-lettered');
  expect(hanging).toHaveLength(1);
  const closed = await producer.close();
  await new Promise((resolve) => setImmediate(resolve));
  expect(warnings.map((w) => w.message)).toEqual([]);
  expect(closed).toEqual({ dropped: 0 });
});
