import { describe, expect, it } from 'vitest';
import type { SettleOutcome } from '../../src/amqp/confirm-tracker.js';
import type { ConfirmChannelPort } from '../../src/amqp/ports.js';
import { FerryError } from '../../src/errors.js';
import { Accepted } from '../../src/producer/accepted.js';
import {
  earliestDeadline,
  findInFlight,
  PublishLane,
  totalInFlight,
} from '../../src/producer/publish-lane.js';
import { toOutboundMessage } from '../../src/producer/publish-request.js';
import { task } from './helpers.js';

const port: ConfirmChannelPort = {
  publish: () => true,
  nextDeliveryTag: 1,
  reopenChannel: () => Promise.resolve(),
};

function accepted(n: number): Accepted {
  return new Accepted(
    toOutboundMessage(task(n), 0, { maxMessageBytes: 1e6, appId: undefined, timestamp: false }),
  );
}

/** A lane whose owner records what it hears. */
function recordedLane() {
  const heard: string[] = [];
  const lane = new PublishLane(
    port,
    {
      settle: (entry: Accepted, outcome: SettleOutcome, tag: number) =>
        heard.push(`${entry.messageId} ${outcome} ${tag}`),
      pump: () => heard.push('pump'),
      noRoute: () => heard.push('no route'),
      channelClosed: (closed, error) => heard.push(`closed ${closed === lane} ${error.code}`),
    },
    4,
  );
  return { lane, heard };
}

describe('PublishLane', () => {
  it('settles its own tags through its own tracker, then lets the publisher pump', () => {
    const { lane, heard } = recordedLane();
    for (let n = 1; n <= 3; n += 1) lane.tracker?.track(accepted(n), 10 * n);
    expect(lane.inFlight).toBe(3);
    lane.ack(2, true);
    lane.nack(3, false);
    expect(heard).toEqual(['m-1 confirmed 1', 'm-2 confirmed 2', 'pump', 'm-3 nacked 3', 'pump']);
    expect(lane.inFlight).toBe(0);
  });

  it('a return marks its message and, unroutable, reports the missing topology', () => {
    const { lane, heard } = recordedLane();
    lane.tracker?.track(accepted(1), 10);
    lane.returned('m-1', 312);
    lane.ack(1, false);
    expect(heard).toEqual(['no route', 'm-1 returned 1', 'pump']);
  });

  it('lost: hands its tracker over and is not ready until opened again with tags from 1', () => {
    const { lane, heard } = recordedLane();
    lane.tracker?.track(accepted(1), 10);
    lane.channelClosed(new FerryError('NOT_FOUND', 'no exchange'));
    expect(heard).toEqual(['closed true NOT_FOUND']);
    const lost = lane.lose();
    expect(lost?.size).toBe(1);
    expect([lane.ready, lane.sendable, lane.inFlight]).toEqual([false, false, 0]);
    expect(lane.reopen.pending).not.toBeNull();
    lane.open();
    expect([lane.ready, lane.sendable]).toEqual([true, true]);
    expect(lane.reopen.pending).toBeNull();
    expect(lane.tracker?.nextTag).toBe(1);
  });

  it('a full write buffer stops writes until drain', () => {
    const { lane, heard } = recordedLane();
    lane.writable = false;
    expect([lane.ready, lane.sendable]).toEqual([true, false]);
    lane.drain();
    expect(lane.sendable).toBe(true);
    expect(heard).toEqual(['pump']);
  });

  it('over several lanes: in flight summed, the earliest deadline, a message found on any', () => {
    const lanes = [recordedLane().lane, recordedLane().lane, recordedLane().lane];
    lanes[0]?.tracker?.track(accepted(1), 30);
    lanes[2]?.tracker?.track(accepted(2), 20);
    lanes[2]?.tracker?.track(accepted(3), 40);
    expect(totalInFlight(lanes)).toBe(3);
    expect(earliestDeadline(lanes)).toBe(20);
    expect(findInFlight(lanes, 'm-3')?.messageId).toBe('m-3');
    expect(findInFlight(lanes, 'm-9')).toBeUndefined();
    lanes[2]?.lose();
    expect(earliestDeadline(lanes)).toBe(30);
    expect(earliestDeadline([])).toBeUndefined();
  });
});
