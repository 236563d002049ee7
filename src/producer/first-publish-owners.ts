/**
 * The owners of first publishes and of the breaker's probe (a first publish let through a half-open
 * breaker): confirmed, they are done; failed or refused, they go to a message actor; lost with their
 * connection, they go back to the outbox front to be sent again, using up no attempt.
 *
 * @internal
 */
import type { FerryError } from '../errors.js';
import type { Accepted } from './accepted.js';
import type { Outbox } from './outbox.js';
import type { BreakerSignals, FirstPublishOutcomes, PublisherDependencies } from './publisher-ports.js';
import { WRITE, type WriteOwner } from './write-owner.js';

/**
 * First publishes handed back by a dead channel or connection, in write order, until the hot path puts
 * them back at the outbox front.
 *
 * @internal
 */
export class Requeue {
  private readonly held: Accepted[] = [];
  /** The probe was among them: its failure goes to the breaker once they are back. */
  private probeLost: FerryError | null = null;

  push(accepted: Accepted): void {
    this.held.push(accepted);
  }

  /** The probe was handed back unanswered. */
  lostProbe(accepted: Accepted, failure: FerryError): void {
    this.held.push(accepted);
    this.probeLost = failure;
  }

  /** Puts them back at the outbox front, in their order; returns the lost probe's failure, if any. */
  flushInto(outbox: Outbox<Accepted>): FerryError | null {
    const { held } = this;
    for (let i = held.length - 1; i >= 0; i -= 1) outbox.unshift(held[i] as Accepted);
    held.length = 0;
    const probeLost = this.probeLost;
    this.probeLost = null;
    return probeLost;
  }
}

/**
 * The two owners. Without an outcome the half-open breaker would wait for its probe forever (it lets
 * no second one through): a probe refused or handed back counts as a failure, so the breaker opens
 * again and probes anew after its cooldown.
 *
 * @internal
 */
export function firstPublishOwners(
  first: FirstPublishOutcomes,
  breaker: BreakerSignals,
  requeue: Requeue,
): { readonly healthy: WriteOwner; readonly probe: WriteOwner } {
  const confirmed = (accepted: Accepted): void => first.confirmed(accepted);
  const failed = (accepted: Accepted, failure: FerryError): void => first.failed(accepted, failure);
  return {
    healthy: { confirmed, failed, refused: failed, lost: (accepted) => requeue.push(accepted) },
    probe: {
      confirmed,
      failed,
      refused: (accepted, failure) => {
        first.failed(accepted, failure);
        breaker.outcome(failure);
      },
      lost: (accepted, failure) => requeue.lostProbe(accepted, failure),
    },
  };
}

/**
 * The owner of every kind of write, indexed by {@link WRITE}: first publishes and the probe here, an
 * actor's retries and dead-letter hand-offs in retries.ts.
 *
 * @internal
 */
export function ownersByKind(
  owners: PublisherDependencies['owners'],
  breaker: BreakerSignals,
  requeue: Requeue,
): readonly WriteOwner[] {
  const { healthy, probe } = firstPublishOwners(owners.first, breaker, requeue);
  const byKind: WriteOwner[] = [];
  byKind[WRITE.healthy] = healthy;
  byKind[WRITE.probe] = probe;
  byKind[WRITE.retry] = owners.actor.retry;
  byKind[WRITE.deadLetter] = owners.actor.deadLetter;
  return byKind;
}
