/**
 * Which states use each named implementation of a machine (actions, guards, delays, actors) and each
 * tag: the table under every diagram in the machine docs.
 *
 * @internal
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { guardNames, ownTransitionsOf, stateNodesOf, statePath } from './state-nodes.js';

/** What kind of name a row is about. */
export type ImplementationKind = 'action' | 'guard' | 'delay' | 'actor' | 'tag';

/** One named implementation or tag and the states that refer to it (empty: only the runtime does). */
export interface ImplementationUse {
  readonly kind: ImplementationKind;
  readonly name: string;
  /** Dotted state paths, in definition order; `(machine)` for the root. */
  readonly usedIn: readonly string[];
}

/**
 * Every named action, guard, delay and actor in `machine.implementations` (declaration order, by kind),
 * then every tag (definition order), each with the states that refer to it.
 */
export function implementationUses(machine: AnyStateMachine): readonly ImplementationUse[] {
  const nodes = stateNodesOf(machine);
  const kinds: readonly [ImplementationKind, object, (node: AnyStateNode) => readonly string[]][] = [
    ['action', machine.implementations.actions, actionsOf],
    ['guard', machine.implementations.guards, guardsOf],
    ['delay', machine.implementations.delays, delaysOf],
    ['actor', machine.implementations.actors, actorsOf],
  ];
  const uses: ImplementationUse[] = [];
  for (const [kind, declared, namesOf] of kinds) {
    const usedIn = usage(nodes, namesOf);
    for (const name of Object.keys(declared)) uses.push({ kind, name, usedIn: usedIn.get(name) ?? [] });
  }
  for (const [name, usedIn] of usage(nodes, (node) => node.tags)) uses.push({ kind: 'tag', name, usedIn });
  return uses;
}

/** Name → paths of the states whose `namesOf` mentions it, in definition order, each path once. */
function usage(
  nodes: readonly AnyStateNode[],
  namesOf: (node: AnyStateNode) => readonly string[],
): ReadonlyMap<string, readonly string[]> {
  const usedIn = new Map<string, string[]>();
  for (const node of nodes) {
    for (const name of new Set(namesOf(node))) {
      const paths = usedIn.get(name) ?? [];
      paths.push(statePath(node));
      usedIn.set(name, paths);
    }
  }
  return usedIn;
}

/** Every action a state runs: entry, exit, its initial transition and its own transitions. */
function allActions(node: AnyStateNode): readonly unknown[] {
  return [
    ...node.entry,
    ...node.exit,
    ...node.initial.actions,
    ...ownTransitionsOf(node).flatMap((transition) => transition.actions),
  ];
}

function actionsOf(node: AnyStateNode): readonly string[] {
  return allActions(node).flatMap((action) => {
    if (typeof action === 'string') return [action];
    const type = (action as { readonly type?: unknown } | null)?.type;
    return typeof action === 'object' && typeof type === 'string' ? [type] : [];
  });
}

function guardsOf(node: AnyStateNode): readonly string[] {
  return ownTransitionsOf(node).flatMap((transition) => guardNames(transition.guard));
}

/** Named delays of `after` timers and of delayed `raise`/`sendTo` (XState turns `after` into both). */
function delaysOf(node: AnyStateNode): readonly string[] {
  return allActions(node).flatMap((action) => {
    const delay = (action as { readonly delay?: unknown } | null)?.delay;
    return typeof delay === 'string' ? [delay] : [];
  });
}

/** Actors invoked by the state or spawned by name by its actions. */
function actorsOf(node: AnyStateNode): readonly string[] {
  const invoked = node.invoke.flatMap((invoke) => (typeof invoke.src === 'string' ? [invoke.src] : []));
  const spawned = allActions(node).flatMap((action) => {
    const spawn = action as { readonly type?: unknown; readonly src?: unknown } | null;
    return spawn?.type === 'xstate.spawnChild' && typeof spawn.src === 'string' ? [spawn.src] : [];
  });
  return [...invoked, ...spawned];
}
