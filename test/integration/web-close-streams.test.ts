/**
 * An embedding app's shutdown (`await bot.close(); server.close()`) with a visitor's tab open on
 * the web chat: the bot's close ends the chat's event stream, so the app's server can close. The
 * stream used to keep polling and sending heartbeats, and the server never closed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import { createBot, loadConfig } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';

let ai: FakeOpenAi;
beforeAll(async () => {
  ai = await startFakeOpenAi();
});
afterAll(async () => {
  await ai.close();
});

it('ends open web chat event streams on bot.close(), so the embedding server closes', async () => {
  const bot = createBot({ config: loadConfig({ OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'sk-test', LOG_LEVEL: 'silent' }), adapters: [webChat()] });
  const server: Server = createServer(bot.middleware);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const posted = await fetch(`${base}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'c1', text: 'hello' }) });
  expect(posted.status).toBeLessThan(300);

  const events = await fetch(`${base}/web/conversations/c1/events`);
  expect(events.status).toBe(200);
  const reader = (events.body as ReadableStream<Uint8Array>).getReader();
  expect((await reader.read()).done).toBe(false); // the transcript, as the stream opens

  await bot.close();
  const ended = (async () => {
    for (;;) if ((await reader.read()).done) return 'ended';
  })();
  const closed = new Promise<string>((resolve) => server.close(() => resolve('closed')));
  // The stream ends within close(), so the server closes at once rather than when the idle connection times out (5 s).
  const tooLate = new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 2000).unref());
  expect(await Promise.race([ended, tooLate])).toBe('ended');
  expect(await Promise.race([closed, tooLate])).toBe('closed');
});
