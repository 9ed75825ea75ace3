/**
 * A BullQueue closed while its BullMQ parts are still starting (a bot stopped right after start):
 * BullMQ's start-up asks Redis for INFO, and when that answer is cut off by the close, BullMQ emits
 * the failure on an object whose listeners the close already removed: an unhandled rejection that
 * fails a test run and, with Node's default, ends the process. A proxy in front of Redis holds
 * BullMQ's INFO answers back (every INFO after ioredis' own ready check on a connection) for
 * HOLD_MS, so the close lands inside the start-up every time.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullQueue } from '../helpers/queue.js';
import { uniquePrefix, useRedis } from './redis-helpers.js';

const prefix = uniquePrefix();
useRedis(prefix);
const HOLD_MS = 400;
let proxy: Server;
let proxyUrl: string;
const sockets = new Set<Socket>();

/** Forwards to the test Redis; from a connection's second INFO on, its answers come HOLD_MS late. */
function slowInfoProxy(): Promise<Server> {
  const server = createServer((client) => {
    const upstream = connect(6379, '127.0.0.1');
    sockets.add(client).add(upstream);
    let infos = 0;
    client.on('data', (chunk) => {
      infos += chunk.toString('latin1').toLowerCase().split('\r\ninfo\r\n').length - 1;
      upstream.write(chunk);
    });
    // Equal delays keep the answers in order.
    upstream.on('data', (chunk) => {
      if (infos < 2) client.write(chunk);
      else setTimeout(() => client.writable && client.write(chunk), HOLD_MS);
    });
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  proxy = await slowInfoProxy();
  const address = proxy.address();
  proxyUrl = `redis://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => proxy.close(resolve));
});

describe('BullQueue closed during start-up', () => {
  it('a worker and producer closed at once after start leave no unhandled rejection behind', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      for (let i = 0; i < 2; i++) {
        const q = bullQueue(`${prefix}-${i}`, { url: proxyUrl });
        q.process(async () => undefined, { concurrency: 1 });
        void q.ping().catch(() => undefined); // opens the producer side too
        await new Promise((resolve) => setTimeout(resolve, 50));
        await q.close(2000);
      }
      await new Promise((resolve) => setTimeout(resolve, 2 * HOLD_MS));
      expect(unhandled.map(String)).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
