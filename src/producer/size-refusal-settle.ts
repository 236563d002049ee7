/**
 * What happens to a confirm channel's writes when the broker closed it for a message over its size
 * limit (406, which names no message).
 *
 * @internal
 */
import type { ConfirmTracker, SettleOutcome, SettleVisitor } from '../amqp/confirm-tracker.js';
import type { FerryError } from '../errors.js';
import type { Accepted } from './accepted.js';
import type { PublisherReports } from './publisher-ports.js';
import { tooLarge } from './size-limit.js';
import { WRITE, type WriteOwner } from './write-owner.js';

/** One write of the lost channel, as the tracker's drain handed it over. */
interface DrainedWrite {
  readonly accepted: Accepted;
  readonly outcome: SettleOutcome;
  readonly tag: number;
  readonly kind: number;
  readonly writtenAt: number;
}

/** Where the lost channel's writes go. */
export interface SizeRefusalHandlers {
  /** The owner of each kind of write, indexed by {@link WRITE}. */
  readonly owners: readonly WriteOwner[];
  readonly reports: PublisherReports;
  /** Settles a write as any channel loss would. */
  readonly settle: SettleVisitor<Accepted>;
}

/**
 * Those over the limit fail for good. The others did nothing wrong: first publishes go to their owner
 * as lost (back to the outbox front, using up no attempt), and the close does not count against the
 * breaker; an actor's write fails as `CHANNEL_LOST` as for any close (its machine cannot tell). When
 * none is over the limit, the refused message is not known, and the close is handled like any other.
 * Returns whether the refused message was known: then the caller puts the handed-back first publishes
 * back, else it counts the close against the breaker.
 *
 * @internal
 */
export function settleSizeRefusal(
  lost: ConfirmTracker<Accepted>,
  limit: number,
  error: FerryError,
  handlers: SizeRefusalHandlers,
): boolean {
  // Collected first: whether the refused message is known decides how every other write settles.
  const writes: DrainedWrite[] = [];
  lost.drain((accepted, outcome, tag, kind, writtenAt) => {
    writes.push({ accepted, outcome, tag, kind, writtenAt });
  });
  const { owners, reports, settle } = handlers;
  const refusedKnown = writes.some((write) => write.accepted.bytes > limit);
  for (const { accepted, outcome, tag, kind, writtenAt } of writes) {
    const owner = owners[kind] as WriteOwner;
    if (accepted.bytes > limit) {
      reports.answered(accepted, outcome, writtenAt);
      owner.refused(
        accepted,
        tooLarge(accepted.bytes, limit, 'the broker refused it and closed the channel'),
      );
    } else if (refusedKnown && outcome === 'channel-lost' && kind <= WRITE.probe) {
      reports.answered(accepted, outcome, writtenAt);
      reports.outcomeUnknown(accepted, outcome);
      owner.lost(accepted, error);
    } else {
      settle(accepted, outcome, tag, kind, writtenAt);
    }
  }
  return refusedKnown;
}
