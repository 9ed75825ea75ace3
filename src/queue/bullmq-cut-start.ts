/**
 * A BullMQ part (Queue, Worker) closed before it finished starting — Redis down when the bot
 * started, or stopped right after its start — leaves its start-up running on a RedisConnection
 * the close has stripped of every listener. When the cut start-up fails (the connection, ended by
 * the close, rejects it with its first error: `connect ECONNREFUSED`, or `Connection is closed.`),
 * BullMQ emits that failure as 'error' on the stripped object from a promise callback: Node's
 * EventEmitter throws an 'error' nobody listens to, and the throw becomes an unhandled rejection
 * that ends the process under Node's default (taskforcesh/bullmq#3546, open in 5.81). Such a
 * failure is of a part already closed: nobody is left to tell, so it is dropped; an 'error' that
 * still has listeners reaches them as ever.
 */
import { EventEmitter } from 'node:events';

/**
 * Drop an 'error' with no listener left on the RedisConnections of `part`: BullMQ's own (the
 * `connection` every Queue and Worker has, the Worker's `blockingConnection`), found by name.
 */
export function withoutUnheardStartErrors<P extends object>(part: P): P {
  const { connection, blockingConnection } = part as { connection?: unknown; blockingConnection?: unknown };
  for (const redisConnection of [connection, blockingConnection]) {
    if (!(redisConnection instanceof EventEmitter)) continue;
    const emit = redisConnection.emit.bind(redisConnection);
    redisConnection.emit = (event: string | symbol, ...args: unknown[]) => (event === 'error' && redisConnection.listenerCount('error') === 0 ? false : emit(event, ...args));
  }
  return part;
}
