/**
 * `ferry/xstate`: ferry inside your own XState v5 system. `producerActor` is actor logic a machine
 * `invoke`s with the producer options; `provideSupervisor` gives ferry's supervisor machine effects of
 * your own (ports), to run it with `createActor` or invoke it. The bare machines are in `ferry/testing`.
 *
 * @packageDocumentation
 */
export type { ConnectedEndpoint, ConnectionEvent } from '../../machines/connection.machine.js';
export type { Failure } from '../../machines/failure.js';
export type { MessageContext, MessageEffectInput, MessageOutput } from '../../machines/message.machine.js';
export type {
  RetryTicket,
  SupervisorContext,
  SupervisorEvent,
  SupervisorInput,
} from '../../machines/supervisor.machine.js';
export {
  provideSupervisor,
  type SupervisorBacklogPort,
  type SupervisorConnectionPort,
  type SupervisorJournalPort,
  type SupervisorMessagePort,
  type SupervisorPorts,
  type SupervisorProvision,
} from '../producer/machine-effects.js';
export {
  type ProducerActorCommand,
  type ProducerActorEvent,
  type ProducerActorInput,
  producerActor,
} from './producer-actor.js';
