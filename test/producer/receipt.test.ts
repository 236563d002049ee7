import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { Receipt } from '../../src/producer/receipt.js';
import { rejection } from './helpers.js';

describe('Receipt', () => {
  it('resolves a promise read before the outcome', async () => {
    const receipt = new Receipt('m-1');
    const settled = receipt.settled;
    expect(receipt.isSettled).toBe(false);
    receipt.settle('confirmed');
    expect(receipt.isSettled).toBe(true);
    await expect(settled).resolves.toBe('confirmed');
    expect(receipt.settled).toBe(settled);
  });

  it('resolves a promise read after the outcome', async () => {
    const receipt = new Receipt('m-1');
    receipt.settle('dead-lettered');
    await expect(receipt.settled).resolves.toBe('dead-lettered');
  });

  it('settles once: a later outcome or close is ignored', async () => {
    const receipt = new Receipt('m-1');
    receipt.settle('confirmed');
    receipt.settle('dead-lettered');
    receipt.abandon(new FerryError('CLOSED', 'closed'));
    await expect(receipt.settled).resolves.toBe('confirmed');
  });

  it('rejects with the close error, before or after it is read', async () => {
    const early = new Receipt('m-1');
    const read = early.settled;
    early.abandon(new FerryError('CLOSED', 'closed'));
    expect((await rejection(read)).code).toBe('CLOSED');

    const late = new Receipt('m-2');
    late.abandon(new FerryError('CLOSED', 'closed'));
    late.settle('confirmed');
    expect((await rejection(late.settled)).code).toBe('CLOSED');
  });

  it('an abandoned receipt nobody awaits does not raise an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const receipt = new Receipt('m-1');
      void receipt.settled;
      receipt.abandon(new FerryError('CLOSED', 'closed'));
      const other = new Receipt('m-2');
      other.abandon(new FerryError('CLOSED', 'closed'));
      void other.settled;
      // Node reports unhandled rejections once the microtasks of a turn ran: one turn is enough.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('creates no promise until settled is read', () => {
    const receipt = new Receipt('m-1');
    receipt.settle('confirmed');
    expect(Object.values(receipt).some((value) => value instanceof Promise)).toBe(false);
  });
});
