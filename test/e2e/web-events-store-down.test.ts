/**
 * A web chat event stream whose store stops answering (Redis restarting) ends, quietly: the browser
 * reconnects once it is back. It used to fail the response with an error-level "unhandled error"
 * line and a stack for every open stream. Real server; the store made to fail in the process.
 */
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

class FlakyStore extends MemoryStore {
  down = false;
  override async listRange(key: string, start: number, stop: number): Promise<string[]> {
    if (this.down) throw new Error('Connection is closed.');
    return super.listRange(key, start, stop);
  }
}

const store = new FlakyStore();
const lines: { level: number; msg: string }[] = [];
let web: WebBot;
beforeAll(async () => {
  web = await startWebBot({}, { store, logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) }) });
});
afterAll(async () => {
  store.down = false;
  await web.close();
});

it('ends an open event stream when the store fails, without an error line', async () => {
  await web.post('sse-down', 'hello');
  await web.waitFor('sse-down', (entries) => entries.length >= 2);
  const res = await fetch(`${web.url}/web/conversations/sse-down/events`);
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  expect(first).toContain('data: ');
  store.down = true;
  // The stream ends by itself within a poll or two.
  const ended = await Promise.race([
    (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })(),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), 5000)),
  ]);
  expect(ended).toBe(true);
  expect(lines.filter((line) => line.level >= 50).map((line) => line.msg)).toEqual([]);
});
