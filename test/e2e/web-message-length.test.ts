/**
 * The web chat's message limit (4000 characters) counts characters as a visitor does: an emoji is
 * one, not the two UTF-16 code units it takes in JavaScript.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { characterCount } from '../../adapters/web/schema.js';
import { webChat } from '../../adapters/web/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { testEnv } from '../helpers/web-bot.js';

describe('the web chat counts a message in characters', () => {
  let ai: FakeOpenAi;
  let bot: Bot;
  let url: string;
  beforeAll(async () => {
    ai = await startFakeOpenAi();
    bot = createBot({ config: loadConfig({ ...testEnv, OPENAI_BASE_URL: ai.url }), adapters: [webChat()] });
    for (const port of [5244, 5245, 5246, 5247]) {
      try {
        url = `http://127.0.0.1:${((await bot.listen(port, '127.0.0.1')).address() as AddressInfo).port}`;
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      }
    }
  });
  afterAll(async () => {
    await bot.close();
    await ai.close();
  });

  const post = async (text: string) => {
    const res = await fetch(`${url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
  };

  it('takes 2,500 and 4,000 emoji (5,000 and 8,000 UTF-16 units), refuses 4,001 with 413 saying 4001', async () => {
    expect((await post('😀'.repeat(2500))).status).toBe(202);
    expect((await post('😀'.repeat(4000))).status).toBe(202);
    const over = await post('😀'.repeat(4001));
    expect(over.status).toBe(413);
    expect(over.body.error).toEqual({ code: 'message_too_long', message: 'A message may have at most 4000 characters; this one has 4001.' });
    expect((await post(`${'x'.repeat(3999)}😀`)).status).toBe(202);
    expect((await post(`${'x'.repeat(4000)}😀`)).status).toBe(413);
  });

  it('counts code points: a surrogate pair is one, a lone surrogate is one', () => {
    expect(characterCount('')).toBe(0);
    expect(characterCount('héllo')).toBe(5);
    expect(characterCount('😀a😀')).toBe(3);
    expect(characterCount('\ud83d')).toBe(1);
    expect(characterCount('a\ude00\ud83d')).toBe(3);
    expect(characterCount('👍🏽')).toBe([...'👍🏽'].length);
  });
});
