import { describe, expect, it } from 'vitest';
import { nacked } from '../support/message-harness.js';
import {
  connectedSupervisor,
  messageChildren,
  settleEverything,
  ticket,
} from '../support/supervisor-harness.js';

// Each spawn copies the supervisor's child table: seconds on an idle machine, more on a busy one.
const slowUnderLoadMs = 120_000;

describe('supervisor: many retrying messages', () => {
  it(
    'keeps at most maxLiveMessages actors and settles every ticket exactly once',
    async () => {
      const tickets = 2_000;
      const maxLiveMessages = 256;
      const harness = await connectedSupervisor({ maxLiveMessages, message: { confirmTimeoutMs: 600_000 } });
      let mostChildren = 0;
      let mostCounted = 0;
      harness.actor.subscribe((snapshot) => {
        let children = 0;
        for (const id in snapshot.children) if (id.startsWith('msg:')) children++;
        mostChildren = Math.max(mostChildren, children);
        mostCounted = Math.max(mostCounted, snapshot.context.liveMessages);
      });

      const ids = Array.from({ length: tickets }, (_, index) => `task-${index}`);
      for (const id of ids) harness.actor.send({ type: 'message.retry', ticket: ticket(id, nacked) });
      expect(Object.keys(messageChildren(harness))).toHaveLength(maxLiveMessages);
      expect(harness.backlog).toHaveLength(tickets - maxLiveMessages);

      await settleEverything(harness);

      expect(harness.outcomes).toHaveLength(tickets);
      expect(new Set(harness.outcomes.map((outcome) => outcome.messageId))).toEqual(new Set(ids));
      expect(harness.outcomes.every((outcome) => outcome.outcome === 'confirmed')).toBe(true);
      expect(mostChildren).toBe(maxLiveMessages);
      expect(mostCounted).toBe(maxLiveMessages);
      expect(messageChildren(harness)).toEqual({});
      expect(harness.actor.getSnapshot().context).toMatchObject({
        liveMessages: 0,
        backlog: 0,
        confirmedAfterRetry: tickets,
      });
      expect(harness.errors).toEqual([]);
    },
    slowUnderLoadMs,
  );
});
