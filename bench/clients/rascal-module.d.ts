/**
 * The part of rascal 21 the bench uses: rascal ships no type declarations, and is CommonJS (so it is
 * imported through its default export).
 */
declare module 'rascal' {
  import type { EventEmitter } from 'node:events';

  /** One publish: emits `success` on the confirm, `error` on a failure, `return` when unroutable. */
  export interface PublicationSession extends EventEmitter {}

  /** The promise-based broker. */
  export interface BrokerAsPromised extends EventEmitter {
    publish(name: string, message: unknown, overrides?: object): Promise<PublicationSession>;
    shutdown(): Promise<void>;
  }

  const rascal: {
    readonly BrokerAsPromised: { create(config: object): Promise<BrokerAsPromised> };
    /** Merges rascal's defaults (confirm pools, retry, timeouts) into a config. */
    withDefaultConfig(config: object): object;
  };
  export default rascal;
}
