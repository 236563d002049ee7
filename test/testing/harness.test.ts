import { describe, expect, it } from 'vitest';
import { fromPromise } from 'xstate';
import { afterEvent, createHarness, doneEvent, errorEvent } from '../../src/testing/index.js';
import { jobMachine } from './job-machine.js';

const input = { retries: 2 };

describe('createHarness', () => {
  it('fakes every declared actor and records each start with its input and time', async () => {
    const harness = createHarness(jobMachine, { input });
    await harness.advance(5);
    await harness.apply({ type: 'start' });
    expect(harness.invocations).toEqual([
      { id: 'work', src: 'work', input: { try: 1 }, startedAt: 5 },
      { id: 'listen', src: 'listen', input: undefined, startedAt: 5 },
    ]);
    expect(harness.isPending('work')).toBe(true);
    expect(harness.isPending('listen')).toBe(true);
    harness.stop();
  });

  it('resolves the pending fake with the output of a done event', async () => {
    const harness = createHarness(jobMachine, { input });
    await harness.apply({ type: 'start' });
    await harness.apply(doneEvent('work', 'ok'));
    expect(harness.actor.getSnapshot().status).toBe('done');
    expect(harness.actor.getSnapshot().context.result).toBe('ok');
    expect(harness.isPending('work')).toBe(false);
    harness.stop();
  });

  it('rejects the pending fake with the error of an error event', async () => {
    const harness = createHarness(jobMachine, { input });
    await harness.apply({ type: 'start' });
    await harness.apply(errorEvent('work', 'boom'));
    expect(harness.actor.getSnapshot().value).toBe('waiting');
    expect(harness.isPending('work')).toBe(false);
    harness.stop();
  });

  it('forgets fakes the machine stopped', async () => {
    const harness = createHarness(jobMachine, { input });
    await harness.apply({ type: 'start' });
    await harness.apply({ type: 'cancel' });
    expect(harness.isPending('work')).toBe(false);
    expect(harness.isPending('listen')).toBe(false);
    harness.stop();
  });

  it('advances the clock by a delay evaluated on the live context, and by numeric delays', async () => {
    const harness = createHarness(jobMachine, { input });
    await harness.apply({ type: 'start' });
    await harness.apply(afterEvent(1000, 'job.running'));
    expect(harness.clock.now()).toBe(1000);
    expect(harness.actor.getSnapshot().value).toBe('waiting');
    const { tries } = harness.actor.getSnapshot().context;
    await harness.apply(afterEvent('backoff', 'job.waiting'));
    // job-machine.ts declares `backoff` as 100 ms per try.
    expect(harness.clock.now()).toBe(1000 + 100 * tries);
    expect(harness.actor.getSnapshot().value).toBe('running');
    harness.stop();
  });

  it('uses given implementations and sends done/error events when no fake is pending', async () => {
    const hang = fromPromise<string, { readonly try: number }>(() => new Promise(() => undefined));
    const harness = createHarness(jobMachine, { input, actors: { work: hang } });
    await harness.apply({ type: 'start' });
    expect(harness.invocations.map((invocation) => invocation.src)).toEqual(['listen']);
    await harness.apply(doneEvent('work', 'sent'));
    expect(harness.actor.getSnapshot().context.result).toBe('sent');
    harness.stop();
  });

  it("keeps the declared implementation for 'keep'", async () => {
    const harness = createHarness(jobMachine, { input, actors: { work: 'keep' } });
    await harness.apply({ type: 'start' });
    // The declared `work` rejects at once, so the machine moves on by itself.
    expect(harness.actor.getSnapshot().value).toBe('waiting');
    harness.stop();
  });

  it('rejects an actor name the machine does not declare', () => {
    expect(() => createHarness(jobMachine, { input, actors: { wrok: 'keep' } })).toThrow(
      "createHarness(job): no actor 'wrok' in setup",
    );
  });

  it('rejects a timer whose delay the machine does not declare', async () => {
    const harness = createHarness(jobMachine, { input });
    await expect(harness.apply(afterEvent('never', 'job.idle'))).rejects.toThrow(
      "createHarness(job): no delay 'never' in setup",
    );
    harness.stop();
  });

  it('records named actions with the step they ran in, leaving out built-in ones', async () => {
    const harness = createHarness(jobMachine, { input });
    await harness.apply({ type: 'start' });
    await harness.apply(errorEvent('work', 'boom'));
    expect(harness.step).toBe(2);
    expect(harness.actions).toEqual([{ step: 2, actorId: 'job', type: 'report', params: undefined }]);
    harness.stop();
  });

  it('reports actor errors instead of throwing them', async () => {
    const harness = createHarness(jobMachine, { input });
    await harness.apply(errorEvent('nobody', 'boom'));
    expect(harness.actor.getSnapshot().status).toBe('error');
    expect(harness.errors).toEqual(['boom']);
    harness.stop();
  });
});
