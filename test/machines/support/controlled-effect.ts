/**
 * A fake promise actor whose every invocation waits for the test to settle it, so that tests decide
 * when and how an effect (publish, dead-letter, connect) finishes.
 */
import { fromPromise, type PromiseActorLogic } from 'xstate';

/** One invocation of a controlled effect. */
export interface EffectCall<TOutput, TInput> {
  readonly input: TInput;
  /** Aborted when the machine stops the invocation (its state was left). */
  readonly signal: AbortSignal;
  resolve(output: TOutput): void;
  reject(error: unknown): void;
}

/** A controlled effect: its logic to `.provide()` and the invocations seen so far, oldest first. */
export interface ControlledEffect<TOutput, TInput> {
  readonly logic: PromiseActorLogic<TOutput, TInput>;
  readonly calls: EffectCall<TOutput, TInput>[];
  /** The newest invocation; fails the test when there is none. */
  latest(): EffectCall<TOutput, TInput>;
  /** Invocations neither settled nor stopped by the machine, oldest first. */
  pending(): EffectCall<TOutput, TInput>[];
}

/** Creates a promise actor that settles only when the test says so. */
export function controlledEffect<TOutput, TInput>(): ControlledEffect<TOutput, TInput> {
  const calls: EffectCall<TOutput, TInput>[] = [];
  const settled = new WeakSet<EffectCall<TOutput, TInput>>();
  const logic = fromPromise<TOutput, TInput>(
    ({ input, signal }) =>
      new Promise<TOutput>((resolve, reject) => {
        const call: EffectCall<TOutput, TInput> = {
          input,
          signal,
          resolve: (output) => {
            settled.add(call);
            resolve(output);
          },
          reject: (error) => {
            settled.add(call);
            reject(error);
          },
        };
        calls.push(call);
      }),
  );
  return {
    logic,
    calls,
    latest() {
      const call = calls.at(-1);
      if (call === undefined) throw new Error('the effect was never invoked');
      return call;
    },
    pending() {
      return calls.filter((call) => !settled.has(call) && !call.signal.aborted);
    },
  };
}
