/**
 * Through the fetch handler (Hono, Deno, Bun, Next.js), an event stream whose reader takes nothing
 * for its stallTimeoutMs (4 heartbeats of the web chat's) is ended, its slot and poll freed, rather
 * than kept with its chunks queued for a client that is gone.
 */
import { expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import { createBot, loadConfig } from '../../src/index.js';
import { testEnv } from '../helpers/web-bot.js';

const HEARTBEAT_MS = 20;
const TOKEN = 'operator-token-for-this-test-only';

it('ends an event stream whose reader takes nothing for 4 heartbeats', async () => {
  const bot = createBot({ config: loadConfig({ ...testEnv, WEB_TOKEN: TOKEN }), adapters: [webChat({ streamHeartbeatMs: HEARTBEAT_MS })] });
  try {
    const res = await bot.fetch(new Request('http://127.0.0.1/web/conversations/stalled/events', { headers: { authorization: `Bearer ${TOKEN}` } }));
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false); // the transcript
    // Read nothing for fifty heartbeats: the stream queues one chunk, then is taken for gone.
    await new Promise((resolve) => setTimeout(resolve, 50 * HEARTBEAT_MS));
    let error: unknown;
    try {
      // What was queued before the stall, then the error.
      for (let n = 0; n < 3; n++) await reader.read();
    } catch (caught) {
      error = caught;
    }
    expect(String(error)).toMatch(/stallTimeoutMs/);
  } finally {
    await bot.close();
  }
});
