/**
 * Replays a model path against a live actor of the production machine and checks, after every step,
 * that the live snapshot is the one the model computed.
 */
import { AssertionError, deepStrictEqual } from 'node:assert';
import type { AnyMachineSnapshot, AnyStateMachine, ContextFrom, SnapshotFrom } from 'xstate';
import { createHarness, type HarnessOptions, type MachineHarness } from './harness.js';
import type { ModelPath } from './model-paths.js';

/** Options of {@link replayPath}. */
export interface ReplayOptions<TMachine extends AnyStateMachine> extends HarnessOptions<TMachine> {
  /**
   * The part of context to compare, whole context by default. Project away what differs between a
   * live actor and the pure model by nature, such as actor refs.
   */
  readonly project?: (context: ContextFrom<TMachine>) => unknown;
}

/**
 * Replays `path` on a fresh {@link createHarness} harness: after each step, the live snapshot's
 * `status`, `value` and (projected) `context` must deep-equal the step's `state`. The harness is stopped
 * afterwards and returned, so its `actions` and `invocations` can be checked against the steps.
 *
 * @throws Error naming the path, the step and a diff (live actor `+ actual`, model `- expected`) at the
 *   first step where they differ.
 */
export async function replayPath<TMachine extends AnyStateMachine>(
  machine: TMachine,
  path: ModelPath<TMachine>,
  options: ReplayOptions<TMachine>,
): Promise<MachineHarness<TMachine>> {
  const project = options.project ?? ((context: ContextFrom<TMachine>) => context);
  const comparable = (snapshot: SnapshotFrom<TMachine>) => {
    const { status, value, context } = snapshot as AnyMachineSnapshot;
    return { status, value, context: project(context) };
  };
  const harness = createHarness(machine, options);
  try {
    for (const [index, step] of path.steps.entries()) {
      await harness.apply(step.event);
      try {
        deepStrictEqual(comparable(harness.actor.getSnapshot()), comparable(step.state));
      } catch (error) {
        if (!(error instanceof AssertionError)) throw error;
        const reported =
          harness.errors.length > 0 ? `\nactor errors: ${harness.errors.map(String).join('; ')}` : '';
        throw new Error(
          `replayPath(${machine.id}): "${path.description}" diverged at step ${index} of ` +
            `${path.steps.length - 1}, ${JSON.stringify(step.event)}: the live actor (+ actual) is not ` +
            `in the model's state (- expected).\n${error.message}${reported}`,
          { cause: error },
        );
      }
    }
  } finally {
    harness.stop();
  }
  return harness;
}
