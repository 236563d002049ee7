import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Failure } from '../../../machines/failure.js';
import type { SupervisorEvent } from '../../../machines/supervisor.machine.js';
import { connectionLost, nacked } from '../support/message-harness.js';
import { nextTurn, until } from '../support/settle.js';
import {
  connectedSupervisor,
  messageChildren,
  type SupervisorHarness,
  settleEverything,
  ticket,
} from '../support/supervisor-harness.js';

const maxLiveMessages = 3;
/** Some ids get tickets, the last two never do: outcomes for them are always unknown. */
const messageId = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'never-retried', 'unknown');
const failure: fc.Arbitrary<Failure> = fc.record({
  code: fc.constantFrom('NACKED', 'RETURNED', 'CHANNEL_LOST', 'CONNECTION_LOST', 'NOT_FOUND'),
  message: fc.constant('injected'),
  permanent: fc.constantFrom(false, false, false, true),
});

/** Something the runtime or the world does to the supervisor. */
type Step =
  | { readonly kind: 'event'; readonly event: SupervisorEvent }
  | { readonly kind: 'publish'; readonly ok: boolean }
  | { readonly kind: 'deadLetter'; readonly ok: boolean }
  | { readonly kind: 'connection'; readonly what: 'lost' | 'blocked' | 'unblocked' }
  | { readonly kind: 'elapse'; readonly ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc
    .record({ id: messageId, failure, attempts: fc.integer({ min: 1, max: 4 }) })
    .map(({ id, failure, attempts }) => ({
      kind: 'event' as const,
      event: { type: 'message.retry' as const, ticket: ticket(id, failure, attempts) },
    })),
  messageId.map((id) => ({ kind: 'event' as const, event: { type: 'message.ack' as const, messageId: id } })),
  fc.record({ id: messageId, failure }).map(({ id, failure }) => ({
    kind: 'event' as const,
    event: { type: 'message.failed' as const, messageId: id, failure },
  })),
  fc
    .constantFrom<SupervisorEvent>(
      { type: 'breaker.success', at: 0 },
      { type: 'breaker.failure', at: 0, failure: nacked, count: 5 },
      { type: 'breaker.probe' },
      { type: 'breaker.reset' },
    )
    .map((event) => ({ kind: 'event' as const, event })),
  fc.boolean().map((ok) => ({ kind: 'publish' as const, ok })),
  fc.boolean().map((ok) => ({ kind: 'deadLetter' as const, ok })),
  fc
    .constantFrom('lost', 'blocked', 'unblocked' as const)
    .map((what) => ({ kind: 'connection' as const, what })),
  fc.constantFrom(1, 1_000, 5_000, 30_000, 60_000).map((ms) => ({ kind: 'elapse' as const, ms })),
);

async function apply(harness: SupervisorHarness, next: Step): Promise<void> {
  switch (next.kind) {
    case 'event':
      harness.actor.send(next.event);
      return;
    case 'publish': {
      const call = harness.publish.pending()[0];
      if (next.ok) call?.resolve();
      else call?.reject(nacked);
      return nextTurn();
    }
    case 'deadLetter': {
      const call = harness.deadLetter.pending()[0];
      if (next.ok) call?.resolve();
      else call?.reject(new Error('dead-letter exchange down'));
      return nextTurn();
    }
    case 'connection': {
      const watcher = harness.watchers.at(-1);
      if (next.what === 'lost') watcher?.({ type: 'connection.lost', failure: connectionLost });
      else if (next.what === 'blocked') watcher?.({ type: 'connection.blocked', reason: 'memory alarm' });
      else watcher?.({ type: 'connection.unblocked' });
      return nextTurn();
    }
    case 'elapse':
      harness.clock.increment(next.ms);
      return nextTurn();
  }
}

/** What must hold between any two steps. */
function expectConsistent(harness: SupervisorHarness): void {
  const snapshot = harness.actor.getSnapshot();
  expect(snapshot.status).toBe('active');
  expect(harness.errors).toEqual([]);
  const live = Object.keys(messageChildren(harness)).length;
  expect(live).toBeLessThanOrEqual(maxLiveMessages);
  expect(snapshot.context.liveMessages).toBe(live);
  expect(snapshot.context.backlog).toBe(harness.backlog.length);
}

describe('supervisor: late and unknown outcomes', () => {
  it('no sequence of outcomes, tickets, breaker and connection events puts it in error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const harness = await connectedSupervisor({
          maxLiveMessages,
          breaker: { failureThreshold: 5, cooldownMs: 10_000 },
          message: { maxAttempts: 3, confirmTimeoutMs: 5_000, parkedRetryDelayMs: 60_000 },
        });
        for (const next of steps) {
          await apply(harness, next);
          expectConsistent(harness);
        }
        await settleEverything(harness);
        expectConsistent(harness);
        const { context } = harness.actor.getSnapshot();
        expect(harness.outcomes).toHaveLength(context.confirmedAfterRetry + context.deadLettered);

        harness.actor.send({ type: 'supervisor.close' });
        await until(harness.actor, (snapshot) => snapshot.status === 'done');
        expect(harness.errors).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it('drops an ack for a message that has no live actor', async () => {
    const harness = await connectedSupervisor();
    const before = harness.actor.getSnapshot();
    harness.actor.send({ type: 'message.ack', messageId: 'never-retried' });
    harness.actor.send({ type: 'message.failed', messageId: 'never-retried', failure: nacked });
    expect(harness.actor.getSnapshot().status).toBe('active');
    expect(harness.actor.getSnapshot().context).toEqual(before.context);
    expect(harness.errors).toEqual([]);
  });
});
