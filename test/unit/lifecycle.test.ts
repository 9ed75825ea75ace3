/**
 * createBot does no I/O: no connection to Redis, no adapter start (Slack's auth.test), no worker,
 * until start(), listen() or the first request.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBot, type Adapter, type Bot } from '../../src/index.js';
import { FakeAdapter, sleep, waitFor } from './helpers.js';

/** Stands where Redis would be and counts who connects. */
let listener: Server;
let connections = 0;
const sockets: Socket[] = [];
let bot: Bot | undefined;

beforeEach(async () => {
  connections = 0;
  listener = createServer((socket) => {
    connections++;
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
});
afterEach(async () => {
  await bot?.close();
  bot = undefined;
  for (const socket of sockets.splice(0)) socket.destroy();
  await new Promise((resolve) => listener.close(resolve));
});

class StartCountingAdapter extends FakeAdapter {
  starts = 0;
  async start(): Promise<void> {
    this.starts++;
  }
}

function create(adapter: Adapter): Bot {
  const redisUrl = `redis://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  return createBot({ adapters: [adapter], env: {}, config: { redisUrl, logLevel: 'silent', shutdownTimeoutMs: 100 } });
}

describe('createBot', () => {
  it('opens no connection and starts no adapter until start()', async () => {
    const adapter = new StartCountingAdapter();
    bot = create(adapter);
    await sleep(300);
    expect(connections).toBe(0);
    expect(adapter.starts).toBe(0);

    void bot.start();
    await waitFor(() => connections > 0 && adapter.starts > 0, 5000, 'the start to connect and start the adapter');
    await sleep(300); // and nothing starts the adapter twice
    expect(adapter.starts).toBe(1);
  });

  it('starts on the first request', async () => {
    const adapter = new StartCountingAdapter();
    bot = create(adapter);
    const res = await bot.fetch(new Request('http://127.0.0.1/healthz'));
    expect(res.status).toBe(200);
    await waitFor(() => connections > 0 && adapter.starts > 0, 5000, 'the request to start the bot');
    await sleep(300); // and nothing starts the adapter twice
    expect(adapter.starts).toBe(1);
  });

  it('listen() serves /healthz at once while Redis does not answer; /readyz says 503, starting, until started', async () => {
    bot = create(new StartCountingAdapter());
    const began = Date.now();
    const server = await bot.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(Date.now() - began).toBeLessThan(1000);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.start).toBe('starting');
  });

  it('/readyz counts a bot without Redis as started on its first request', async () => {
    bot = createBot({ env: {}, config: { logLevel: 'silent' } });
    const res = await bot.fetch(new Request('http://127.0.0.1/readyz'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', checks: { store: 'ok', queue: 'ok' } });
  });

  it('serves through bot.middleware mounted as it is, or as bot.middleware() returns it', async () => {
    bot = createBot({ env: {}, config: { logLevel: 'silent' } });
    expect(bot.middleware()).toBeTypeOf('function');
    for (const handler of [bot.middleware, bot.middleware()]) {
      const server = createHttpServer(handler);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`);
      expect(res.status).toBe(200);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('takes typed configuration over the environment, which supplies the rest', () => {
    bot = createBot({ env: { OPENAI_MODEL: 'from-env', JOB_ATTEMPTS: '7' }, config: { ai: { model: 'from-code' }, logLevel: 'silent' } });
    expect(bot.config.ai.model).toBe('from-code');
    expect(bot.config.queue.attempts).toBe(7);
    expect(bot.config.ai.attempts).toBe(4); // a default
  });
});
