/**
 * `ferry/xstate`: ferry inside your own XState v5 system. `producerActor` is actor logic a machine
 * `invoke`s with the producer options; the machines themselves are in `ferry/testing`.
 *
 * @packageDocumentation
 */
export {
  type ProducerActorCommand,
  type ProducerActorEvent,
  type ProducerActorInput,
  producerActor,
} from './producer-actor.js';
