/**
 * A TCP proxy in front of a private redis-server that freezes it (SIGSTOP) just before forwarding
 * the first command matching `trigger`, and thaws it `freezeMs` later: a Redis that stalls at a
 * precise step. Longer than the fail-fast connection's command deadline, parley gives up on a
 * command that Redis carries out once it wakes.
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import type { PrivateRedis } from './processes.js';

export interface FreezingProxy {
  url: string;
  /** How many times it has frozen Redis so far. */
  readonly frozen: number;
  close(): Promise<void>;
}

/** On a free port: its `url` says which. */
export async function startFreezingProxy(redis: PrivateRedis, trigger: (command: string) => boolean, freezeMs: number, times = 1): Promise<FreezingProxy> {
  let frozen = 0;
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(redis.port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      if (frozen < times && trigger(chunk.toString('latin1'))) {
        frozen++;
        redis.freeze();
        const timer = setTimeout(() => (timers.delete(timer), redis.thaw()), freezeMs);
        timers.add(timer);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => (client.destroy(), upstream.destroy());
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get frozen() {
      return frozen;
    },
    close: () => {
      // Never leave the server stopped: its stop() would wait for a SIGTERM it cannot act on.
      for (const timer of timers) clearTimeout(timer);
      if (timers.size > 0) redis.thaw();
      timers.clear();
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
