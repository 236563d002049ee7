/**
 * Model-based test of the retryable-message machine (the ready-made model of `ferry/testing`): fresh
 * failures, permanent ones, waiting for the gate, and messages resumed from the journal. Paths are
 * generated from the machine itself, each replayed against a live actor on a simulated clock, then
 * every state and transition must have been taken.
 */
import { describe, it } from 'vitest';
import { type MessageInput, messageMachine } from '../../../machines/index.js';
import {
  CoverageTracker,
  ferryModels,
  modelPaths,
  replayPath,
  sampleFailures,
} from '../../../src/testing/index.js';

const model = ferryModels.message;
const base = model.input;
const resume = (state: 'retryWait' | 'parked') => ({
  random: 7,
  deadLetterFailures: state === 'parked' ? 1 : 0,
  timer: { state, remainingMs: 250 },
});

const configurations: { name: string; input: MessageInput }[] = [
  { name: 'fresh off the healthy path', input: base },
  { name: 'permanent failure', input: { ...base, failure: sampleFailures.writeRefused } },
  { name: 'gate closed', input: { ...base, failure: sampleFailures.connectionLost, gateOpen: false } },
  { name: 'resumed in retryWait', input: { ...base, resume: resume('retryWait') } },
  { name: 'resumed parked', input: { ...base, attempts: 3, resume: resume('parked') } },
];

const tracker = new CoverageTracker(messageMachine);

for (const { name, input } of configurations) {
  describe(`message model, ${name}`, () => {
    const paths = modelPaths(messageMachine, { ...model, input });
    it.each(paths.map((path) => [path.description, path] as const))('%s', async (_, path) => {
      await replayPath(messageMachine, path, { input, inspect: tracker.inspect });
    });
  });
}

describe('message model coverage', () => {
  it('took every state and every transition', () => {
    console.info(tracker.summary());
    tracker.assertComplete();
  });
});
