/**
 * amqplib 2.3 on a confirm channel: the baseline. The fast path publishes with a confirm callback per
 * message and waits for `drain` when `publish` returns false (amqplib's documented flow control).
 * Recovery uses amqplib's opt-in `recovery` option and opens a new confirm channel on every `connect`.
 * A publish hook (`createHookedClient`) stands for the user's own code around each publish, such as
 * hand-written tracing, on this same client.
 */
import { type ChannelModel, type ConfirmChannel, connect, type Options } from 'amqplib';
import type { BenchMessage, Target } from '../workload.js';
import { type BenchClient, type ClientFactory, CONTENT_TYPE, type MakeMessage } from './client.js';

function options(message: BenchMessage): Options.Publish {
  return { persistent: true, contentType: CONTENT_TYPE, messageId: message.id };
}

/**
 * What ferry sends with every message where no alternate exchange is configured: `mandatory` (so that
 * an unroutable message comes back as a `basic.return` instead of vanishing). `mandatory` is work for
 * the broker (it tracks which queues took each message before it confirms), so this row sizes that cost.
 */
function mandatoryOptions(message: BenchMessage): Options.Publish {
  return { persistent: true, contentType: CONTENT_TYPE, messageId: message.id, mandatory: true };
}

/** Opt-in recovery's connection: a ChannelModel that also emits `connect`/`disconnect`. */
type RecoveringModel = ChannelModel;

/** amqplib's confirm callback: `null` when the broker acked, an error on a nack or a lost channel. */
export type ConfirmCallback = (error: unknown) => void;

/**
 * What a user's own code does around each `publish` (instrumentation): it sees the message, its
 * content and its options (which it may add headers to) just before amqplib writes them, and returns
 * the confirm callback to hand amqplib in place of `done`.
 */
export type PublishHook = (
  message: BenchMessage,
  content: Buffer,
  options: Options.Publish,
  done: ConfirmCallback,
) => ConfirmCallback;

/** Prepares a client's {@link PublishHook} for its target, before it connects. */
export type PublishHookFactory = (target: Target) => Promise<PublishHook>;

/**
 * An amqplib client publishing with `options`; with `hook`, every publish goes through the hook that
 * `hook` prepares for the target.
 */
function amqplibClient(
  options: (message: BenchMessage) => Options.Publish,
  hook?: PublishHookFactory,
): ClientFactory {
  return async (target, settings) => {
    const around = hook === undefined ? null : await hook(target);
    const model: RecoveringModel = await connect(
      target.url,
      settings.recovery
        ? ({ recovery: { initialDelay: settings.reconnectDelayMs, maxDelay: 5_000 } } as object)
        : {},
    );
    model.on('error', () => undefined);
    let channel: ConfirmChannel | null = null;
    const open = async (): Promise<void> => {
      const opened = await model.createConfirmChannel();
      opened.on('error', () => undefined);
      opened.on('close', () => {
        if (channel === opened) channel = null;
      });
      channel = opened;
    };
    await open();
    model.on('connect', () => {
      open().catch(() => undefined);
    });
    const current = (): ConfirmChannel => {
      if (channel === null) throw new Error('no confirm channel (disconnected)');
      return channel;
    };
    const publishWithCallback = (message: BenchMessage, done: ConfirmCallback): boolean => {
      // Asked first: a hook never sees a publish that throws for want of a channel.
      const channel = current();
      const content = Buffer.from(JSON.stringify(message.body));
      const properties = options(message);
      const confirm = around === null ? done : around(message, content, properties, done);
      return channel.publish(target.exchange, target.routingKey, content, properties, confirm);
    };
    const confirmed = (message: BenchMessage): Promise<void> =>
      new Promise((resolve, reject) => {
        publishWithCallback(message, (error) => (error == null ? resolve() : reject(error)));
      });

    /** Publishes every message with a callback; with `flowControl`, waits for `drain` when asked to. */
    const stream = (count: number, make: MakeMessage, flowControl: boolean): Promise<number> =>
      new Promise((resolve, reject) => {
        let settled = 0;
        let failed = 0;
        const done: ConfirmCallback = (error) => {
          if (error != null) failed += 1;
          settled += 1;
          if (settled === count) resolve(failed);
        };
        let n = 0;
        const pump = (): void => {
          try {
            while (n < count) {
              const room = publishWithCallback(make(n), done);
              n += 1;
              if (!room && flowControl) {
                current().once('drain', pump);
                return;
              }
            }
          } catch (error) {
            reject(error);
          }
        };
        pump();
      });

    const client: BenchClient = {
      pipelined: (count, make) => stream(count, make, true),
      sequential: async (count, make) => {
        let failed = 0;
        for (let n = 0; n < count; n += 1) await confirmed(make(n)).catch(() => (failed += 1));
        return failed;
      },
      outstanding: (count, make) => stream(count, make, false),
      send: async (message) => {
        await confirmed(message);
      },
      close: async () => {
        await model.close();
      },
    };
    return client;
  };
}

/** amqplib as its users write it: the baseline. */
export const createClient = amqplibClient(options);
/** amqplib with `mandatory`, as ferry publishes without an alternate exchange: what `mandatory` costs the broker. */
export const createMandatoryClient = amqplibClient(mandatoryOptions);
/** amqplib as the baseline publishes, each publish going through the hook `hook` prepares (instrumentation). */
export const createHookedClient = (hook: PublishHookFactory): ClientFactory => amqplibClient(options, hook);
