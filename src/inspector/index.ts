/**
 * `ferry/inspector`: the Stately inspector on a producer's actor system, bodies and credentials
 * stripped. Needs the optional packages `@statelyai/inspect` and `ws`.
 *
 * ```ts
 * import { createProducer } from 'ferry';
 * import { startStatelyInspector } from 'ferry/inspector';
 * const inspector = await startStatelyInspector({ mode: 'ws' }); // open inspector.url
 * const producer = createProducer({}, { inspect: inspector.inspect });
 * ```
 *
 * @packageDocumentation
 */
export type { ActorSystemEvent, ActorSystemInspector } from './inspection.js';
export {
  DEFAULT_INSPECT_PORT,
  type InspectMode,
  type StatelyInspector,
  type StatelyInspectorOptions,
  sanitizeValue,
  startStatelyInspector,
} from './stately.js';
