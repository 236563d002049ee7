/**
 * Reading a machine definition for documentation: its state nodes in document order and readable names
 * for the events, guards, actions and invocations that XState stores in resolved form.
 *
 * @internal
 */
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

/** The machine's state nodes, root first, each followed by its descendants in definition order. */
export function stateNodesOf(machine: AnyStateMachine): readonly AnyStateNode[] {
  const nodes: AnyStateNode[] = [];
  const visit = (node: AnyStateNode): void => {
    nodes.push(node);
    for (const child of childrenOf(node)) visit(child);
  };
  visit(machine.root);
  return nodes;
}

/** A state node's children in definition order. */
export function childrenOf(node: AnyStateNode): readonly AnyStateNode[] {
  return Object.values(node.states);
}

/** Every transition defined on the node itself: `on`, invoke `onDone`/`onError`, `after`, then `always`. */
export function ownTransitionsOf(node: AnyStateNode): readonly AnyTransitionDefinition[] {
  return [...[...node.transitions.values()].flat(), ...(node.always ?? [])];
}

/** The path of a state node below the root, dotted (`connected.flowing`); `(machine)` for the root. */
export function statePath(node: AnyStateNode): string {
  return node.path.length === 0 ? '(machine)' : node.path.join('.');
}

/**
 * The event of a transition as a reader wants it: `after <delay>`, `done: <actor>`, `error: <actor>`,
 * `snapshot: <actor>`, `done` for the node's own completion, `always` for eventless transitions.
 */
export function eventLabel(node: AnyStateNode, transition: AnyTransitionDefinition): string {
  const type = transition.eventType;
  if (type === '') return 'always';
  const afterPrefix = 'xstate.after.';
  const afterSuffix = `.${node.id}`;
  if (type.startsWith(afterPrefix) && type.endsWith(afterSuffix)) {
    return `after ${type.slice(afterPrefix.length, -afterSuffix.length)}`;
  }
  if (type === `xstate.done.state.${node.id}`) return 'done';
  for (const [prefix, label] of ACTOR_EVENT_PREFIXES) {
    if (type.startsWith(prefix)) return `${label}: ${type.slice(prefix.length)}`;
  }
  return type;
}

const ACTOR_EVENT_PREFIXES: readonly (readonly [string, string])[] = [
  ['xstate.done.actor.', 'done'],
  ['xstate.error.actor.', 'error'],
  ['xstate.snapshot.', 'snapshot'],
  ['xstate.done.state.', 'done'],
];

/** `event [guard]`, the label of a transition edge. */
export function transitionLabel(node: AnyStateNode, transition: AnyTransitionDefinition): string {
  const guard = transition.guard === undefined ? '' : ` [${guardLabel(transition.guard)}]`;
  return `${eventLabel(node, transition)}${guard}`;
}

/** A guard's name; higher-order guards as `and(a, b)`, `or(a, b)`, `not(a)`, `in(state)`. */
export function guardLabel(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const composite = guard as { readonly guards?: readonly unknown[]; readonly stateValue?: unknown };
    if (Array.isArray(composite.guards) && HIGHER_ORDER_GUARDS.has(guard.name)) {
      return `${guard.name}(${composite.guards.map(guardLabel).join(', ')})`;
    }
    if (guard.name === 'stateIn') return `in(${JSON.stringify(composite.stateValue)})`;
    return 'inline';
  }
  if (isParameterized(guard)) return guard.type;
  return 'inline';
}

const HIGHER_ORDER_GUARDS: ReadonlySet<string> = new Set(['and', 'or', 'not']);

/** The named guards a guard refers to, looking inside `and`/`or`/`not`. */
export function guardNames(guard: unknown): readonly string[] {
  if (typeof guard === 'string') return [guard];
  if (typeof guard === 'function') {
    const nested = (guard as { readonly guards?: readonly unknown[] }).guards;
    return Array.isArray(nested) ? nested.flatMap(guardNames) : [];
  }
  return isParameterized(guard) ? [guard.type] : [];
}

/**
 * An action's name: the named implementation, a built-in without its `xstate.` prefix (`assign`,
 * `raise`), or `inline`. `null` for the raise/cancel pair XState adds for `after` transitions, which the
 * diagram already shows as timer edges.
 */
export function actionLabel(action: unknown): string | null {
  if (typeof action === 'string') return action;
  if (typeof action === 'function') {
    const builtIn = action as { readonly type?: unknown; readonly id?: unknown; readonly sendId?: unknown };
    if (typeof builtIn.type !== 'string') return 'inline';
    const timerId = builtIn.type === 'xstate.cancel' ? builtIn.sendId : builtIn.id;
    if (typeof timerId === 'string' && timerId.startsWith('xstate.after.')) return null;
    return builtIn.type.replace(/^xstate\./, '');
  }
  return isParameterized(action) ? action.type : 'inline';
}

/** The labels of a list of actions, timer bookkeeping left out. */
export function actionLabels(actions: readonly unknown[]): readonly string[] {
  return actions.map(actionLabel).filter((label): label is string => label !== null);
}

/** `invoke <src>`, or `invoke <src> as <id>` when the invocation has its own id; inline logic as `inline`. */
export function invokeLabel(invoke: { readonly id: string; readonly src: unknown }): string {
  const src = invokeSource(invoke);
  return src === invoke.id ? `invoke ${src}` : `invoke ${src} as ${invoke.id}`;
}

/** The name of the invoked logic, `inline` when it is not a named implementation. */
export function invokeSource(invoke: { readonly src: unknown }): string {
  return typeof invoke.src === 'string' && !invoke.src.startsWith('xstate.invoke.') ? invoke.src : 'inline';
}

function isParameterized(value: unknown): value is { readonly type: string } {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}
