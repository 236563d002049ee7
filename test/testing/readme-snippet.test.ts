/**
 * The README's `ferry/testing` snippet, as written there (the import path aside): it must pass.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  breakerMachine,
  CoverageTracker,
  ferryModels,
  modelPaths,
  replayPath,
} from '../../src/testing/index.js';

describe('the README snippet', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  it('is the code below', () => {
    expect(readme).toContain(
      'const model = ferryModels.breaker;\nconst tracker = new CoverageTracker(breakerMachine);',
    );
    expect(readme).toContain("it('covers every state and transition', () => tracker.assertComplete());");
  });

  const model = ferryModels.breaker;
  const tracker = new CoverageTracker(breakerMachine);
  for (const path of modelPaths(breakerMachine, model)) {
    it(path.description, () =>
      replayPath(breakerMachine, path, { input: model.input, inspect: tracker.inspect }),
    );
  }
  it('covers every state and transition', () => tracker.assertComplete());
});
