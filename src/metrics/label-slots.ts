/**
 * Bounded label values: the routing keys metrics are labelled with, each given a slot in plain arrays.
 */

/** The label value that stands for every routing key past the limit. */
export const OTHER_ROUTING_KEY = '__other__';

/**
 * Maps routing keys to dense slot numbers, at most `limit` of them: past that, every new key shares the
 * {@link OTHER_ROUTING_KEY} slot, so a caller who puts ids in routing keys cannot blow up the number of
 * series. A lookup is one `Map.get`.
 *
 * @internal
 */
export class LabelSlots {
  private readonly slots = new Map<string, number>();
  private readonly names: string[] = [];
  private otherSlot = -1;

  constructor(private readonly limit: number) {}

  /** The slot of `value`, created on first sight; {@link size} grows by at most one. */
  slot(value: string): number {
    const known = this.slots.get(value);
    if (known !== undefined) return known;
    if (this.slots.size < this.limit) return this.add(value);
    if (this.otherSlot < 0) this.otherSlot = this.add(OTHER_ROUTING_KEY);
    return this.otherSlot;
  }

  /** How many slots exist. */
  get size(): number {
    return this.names.length;
  }

  /** The label value of slot `index`. */
  name(index: number): string {
    return this.names[index] ?? OTHER_ROUTING_KEY;
  }

  private add(value: string): number {
    const index = this.names.length;
    this.names.push(value);
    this.slots.set(value, index);
    return index;
  }
}
