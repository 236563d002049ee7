/**
 * Which state nodes and transition definitions of a machine live actors actually went through, so a
 * test suite can demand all of them and fail when a new transition goes untested.
 */
import {
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  type InspectionEvent,
  isMachineSnapshot,
} from 'xstate';

/** Every state node id and every transition definition of a machine, as stable keys. */
export interface MachineInventory {
  readonly states: readonly string[];
  /** `source --eventType--> targets [guard]`; eventless transitions show `always`, targetless `(none)`. */
  readonly transitions: readonly string[];
}

/** Covered out of total, with the keys not covered. */
export interface CoverageCount {
  readonly covered: number;
  readonly total: number;
  readonly missing: readonly string[];
}

/** What a {@link CoverageTracker} saw, against the {@link machineInventory}. */
export interface CoverageReport {
  readonly states: CoverageCount;
  readonly transitions: CoverageCount;
}

function guardName(guard: AnyTransitionDefinition['guard']): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return (guard as { type?: string }).type ?? (guard.name || 'inline');
  return (guard as { type: string }).type;
}

function baseKey(transition: AnyTransitionDefinition): string {
  const targets = transition.target?.map((node) => node.id).join(', ') ?? '(none)';
  const guard = guardName(transition.guard);
  return `${transition.source.id} --${transition.eventType || 'always'}--> ${targets}${guard ? ` [${guard}]` : ''}`;
}

/** The stable key of a transition definition; a `#n` suffix tells otherwise identical siblings apart. @internal */
function transitionKey(transition: AnyTransitionDefinition): string {
  const { source, eventType } = transition;
  const siblings = (eventType ? source.transitions.get(eventType) : source.always) ?? [];
  const base = baseKey(transition);
  const twins = siblings.filter((other) => baseKey(other) === base);
  return twins.length > 1 ? `${base} #${twins.indexOf(transition) + 1}` : base;
}

function stateNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap(stateNodes)];
}

/** Lists every state node id (the root included) and every transition definition key of `machine`. */
export function machineInventory(machine: AnyStateMachine): MachineInventory {
  const nodes = stateNodes(machine.root);
  return {
    states: nodes.map((node) => node.id),
    transitions: nodes.flatMap((node) =>
      [...node.transitions.values(), node.always ?? []].flat().map(transitionKey),
    ),
  };
}

function count(all: readonly string[], seen: ReadonlySet<string>): CoverageCount {
  const missing = all.filter((key) => !seen.has(key));
  return { covered: all.length - missing.length, total: all.length, missing };
}

function percent({ covered, total }: CoverageCount): string {
  return `${covered}/${total} (${total === 0 ? 100 : Math.floor((covered / total) * 1000) / 10}%)`;
}

/**
 * Records coverage of `machine` from inspection events: pass {@link CoverageTracker.inspect} as the
 * `inspect` option of replays or harnesses. Every actor running this machine (matched by machine id,
 * so `.provide()` copies and spawned instances count) contributes the transitions of its microsteps and
 * the state nodes of its snapshots.
 */
export class CoverageTracker {
  readonly #machine: AnyStateMachine;
  readonly #inventory: MachineInventory;
  readonly #states = new Set<string>();
  readonly #transitions = new Set<string>();

  constructor(machine: AnyStateMachine) {
    this.#machine = machine;
    this.#inventory = machineInventory(machine);
  }

  /** The inspection observer; bound, so it can be passed around as it is. */
  readonly inspect = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.microstep' && event.type !== '@xstate.snapshot') return;
    const { snapshot } = event;
    if (!isMachineSnapshot(snapshot) || snapshot.machine.id !== this.#machine.id) return;
    for (const node of snapshot._nodes) this.#states.add(node.id);
    if (event.type === '@xstate.microstep') {
      for (const transition of event._transitions) this.#transitions.add(transitionKey(transition));
    }
  };

  /** Coverage so far. */
  report(): CoverageReport {
    return {
      states: count(this.#inventory.states, this.#states),
      transitions: count(this.#inventory.transitions, this.#transitions),
    };
  }

  /** One line: `connection: states 11/11 (100%), transitions 30/31 (96.7%); missing: …`. */
  summary(): string {
    const { states, transitions } = this.report();
    const missing = [...states.missing, ...transitions.missing];
    return `${this.#headline()}${missing.length > 0 ? `; missing: ${missing.join('; ')}` : ''}`;
  }

  #headline(): string {
    const { states, transitions } = this.report();
    return `${this.#machine.id}: states ${percent(states)}, transitions ${percent(transitions)}`;
  }

  /**
   * Demands full coverage, but for state ids and transition keys `unreachable` declares as such (say,
   * a guarded branch no event can satisfy). The list must stay exact, so fixing the machine fails the
   * test until the entry is removed.
   *
   * @throws Error listing what is neither covered nor declared unreachable, and declared entries that
   *   were covered or are not in the machine.
   */
  assertComplete(options: { readonly unreachable?: readonly string[] } = {}): void {
    const { states, transitions } = this.report();
    const unreachable = options.unreachable ?? [];
    const known = new Set([...this.#inventory.states, ...this.#inventory.transitions]);
    const problems = [
      ...[...states.missing, ...transitions.missing]
        .filter((key) => !unreachable.includes(key))
        .map((key) => `not covered: ${key}`),
      ...unreachable
        .filter((key) => !known.has(key))
        .map((key) => `declared unreachable but not in the machine: ${key}`),
      ...unreachable
        .filter((key) => this.#states.has(key) || this.#transitions.has(key))
        .map((key) => `declared unreachable but covered: ${key}`),
    ];
    if (problems.length > 0) throw new Error(`${this.#headline()}\n  ${problems.join('\n  ')}`);
  }
}
