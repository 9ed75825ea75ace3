/**
 * BullQueue.drop(): past close()'s deadline (Redis unreachable), let go of everything at once and
 * wait for nothing, so no connection, reconnect timer or lock timer keeps the process alive.
 */
import type { Queue, Worker } from 'bullmq';
import type { RedisClient as Redis } from '../store/redis-connection.js';
import type { IntakeDoor, IntakePump } from './intake.js';

export interface BullParts {
  door?: IntakeDoor;
  pump?: IntakePump<unknown>;
  worker?: Worker;
  queues: (Queue | undefined)[];
  connections: (Redis | undefined)[];
}

export function dropAll(parts: BullParts): void {
  parts.door?.close();
  void parts.pump?.stop().catch(() => undefined); // disconnects its reader at once
  // Forced: no waiting for running jobs or for a connection that never comes; clears the lock timer.
  void parts.worker?.close(true).catch(() => undefined);
  for (const queue of parts.queues) void queue?.close().catch(() => undefined);
  for (const connection of parts.connections) connection?.disconnect();
}
