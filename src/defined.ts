/**
 * Object literals with their `undefined` fields left out: under `exactOptionalPropertyTypes` an
 * optional field may be absent but not `undefined`, and defaults spread under such an object survive.
 *
 * @internal
 */

/** `value` without its `undefined` fields. */
export function defined<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}
