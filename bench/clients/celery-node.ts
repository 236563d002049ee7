/**
 * celery-node 0.5: `client.sendTask()` publishes a Celery protocol 2 message on a plain channel
 * (bundled amqplib 0.8) with no publisher confirms, after declaring the queue anew for every message,
 * and returns nothing to await. The run is timed until the queue holds every message, polled with
 * `checkQueue` on a connection of the bench's own. It has no confirms to await one by one and no
 * reconnect, so it takes part in the routed and outstanding variants only.
 */
import { connect } from 'amqplib';
import celery from 'celery-node';
import type { Target } from '../workload.js';
import type { BenchClient, ClientFactory, MakeMessage } from './client.js';

/** How often the queue is polled while celery-node's publishes drain. */
const POLL_MS = 10;

export const createClient: ClientFactory = async (target: Target) => {
  // The broker and the result backend on the same RabbitMQ; the queue is the bench's queue.
  const client = celery.createClient(target.url, target.url, target.queue);
  await client.isReady();
  const watcher = await connect(target.url);
  const channel = await watcher.createChannel();
  const publishAll = async (count: number, make: MakeMessage): Promise<number> => {
    const { messageCount: before } = await channel.checkQueue(target.queue);
    for (let n = 0; n < count; n += 1) {
      const message = make(n);
      client.sendTask('llm_service.tasks.summarize_content', [], message.body, message.id);
    }
    for (;;) {
      const { messageCount } = await channel.checkQueue(target.queue);
      if (messageCount - before >= count) return 0;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  const bench: BenchClient = {
    pipelined: publishAll,
    outstanding: publishAll,
    close: async () => {
      await watcher.close();
      await client.disconnect();
    },
  };
  return bench;
};
