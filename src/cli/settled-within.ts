/**
 * Waits for a receipt's outcome for at most `timeoutMs`: a command line cannot wait forever for a
 * broker that is away, but the message stays owned by the producer's journal either way.
 */
import type { PublishReceipt, Settlement } from '../producer/receipt.js';

/** The receipt's outcome, or `'timeout'` if it did not settle within `timeoutMs`. */
export async function settledWithin(
  receipt: PublishReceipt,
  timeoutMs: number,
): Promise<Settlement | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      receipt.settled,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
