/**
 * A BullQueue closed while its BullMQ parts are still starting because Redis was down (a bot
 * started during an outage, stopped just as Redis comes back): BullMQ's start-up waits for each
 * connection to be ready, remembering the connection's first error (ECONNREFUSED). The close cuts
 * the connections; one caught mid-connect ends, and BullMQ rejects its start-up with that first
 * error and emits it on an object the close has stripped of its listeners: an unhandled rejection
 * (`connect ECONNREFUSED`, from TCPConnectWrap.afterConnect only) that fails a test run and, with
 * Node's default, ends the process. No Redis needed: a port with nothing on it, then a server there
 * that accepts connections and never answers (a Redis still loading, or too slow), so every
 * connection is caught mid-connect when the close lands.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BullQueue } from '../../src/queue/index.js';
import { freePort } from '../helpers/processes.js';
import { testRetry, type Data } from '../helpers/queue.js';
import { sleep, waitFor } from './redis-helpers.js';

let silent: Server | undefined;
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await new Promise((resolve) => (silent ? silent.close(resolve) : resolve(undefined)));
  silent = undefined;
});

describe('BullQueue closed while Redis was down at its start', () => {
  it('leaves no unhandled rejection behind, however its start-up is cut off', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const port = await freePort();
      const queue = new BullQueue<Data>({ url: `redis://127.0.0.1:${port}`, prefix: 'cut', retry: testRetry, lockDurationMs: 2000 });
      queue.process(async () => undefined, { concurrency: 1 });
      void queue.ping().catch(() => undefined); // opens the producer side too
      await sleep(300); // every connection has been refused (ECONNREFUSED) at least once
      // It reads (and so sees a client's end, as Redis does) but never answers.
      silent = createServer((socket) => void sockets.add(socket.on('error', () => undefined).resume()));
      await new Promise<void>((resolve) => silent!.listen(port, '127.0.0.1', resolve));
      // The producer, the worker's connection, BullMQ's blocking one and the intake pump's reader
      // reconnect (within ioredis' 2 s backoff) and wait for an answer that never comes.
      await waitFor(() => sockets.size >= 4, 10_000, 'every connection to come back');
      expect(await queue.close(2000)).toEqual({ unfinished: 0 });
      // The close cut them; BullMQ's cut start-ups fail once the connections have ended.
      await waitFor(() => [...sockets].every((socket) => socket.destroyed), 5000, 'the cut connections to end');
      await sleep(200);
      expect(unhandled.map(String)).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }, 20_000);
});
