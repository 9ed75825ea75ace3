/**
 * POST /web/messages against malformed bodies generated with fast-check (the web chat signs
 * nothing: requests come from this machine). Driven through the bot's fetch handler in this process.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import type { Bot } from '../../src/index.js';
import { startInProcessBot, type FetchLike } from '../helpers/in-process.js';
import { testEnv } from '../helpers/web-bot.js';
import { malformedJson } from './arbitraries.js';
import { sendMalformed } from './harness.js';

const URL_ = 'http://127.0.0.1/web/messages';
let counter = 0;
const messages = fc.constantFrom<() => object>(
  () => ({ conversation: `c${++counter}`, text: 'hello' }),
  () => ({ conversation: `c${++counter}`, text: 'with an id', id: `client-${counter}` }),
);

describe('POST /web/messages under malformed bodies (fast-check)', () => {
  let bot: Bot;
  let send: FetchLike;
  beforeAll(async () => {
    ({ bot, send } = await startInProcessBot(testEnv, webChat()));
  });
  afterAll(async () => {
    await bot.close();
  });

  const post = (body: string) => send(URL_, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('still takes a valid message, and refuses one without text with 400 invalid_payload', async () => {
    expect((await post('{"conversation":"c0","text":"hi"}')).status).toBe(202);
    const res = await post('{"conversation":"c0","text":{"nested":1}}');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_payload' } });
  });

  it('1,200 malformed bodies: 202, 400 or 413 (a text over 4000 characters), never 5xx', async () => {
    const tally = await sendMalformed(malformedJson(messages), post, 1200, (status) => status === 202 || status === 400 || status === 413);
    expect(tally.total).toBeGreaterThanOrEqual(1200);
    expect(Object.keys(tally.statuses).sort()).toEqual(expect.arrayContaining(['202', '400']));
  });

  it('keeps serving afterwards', async () => {
    expect((await send('http://127.0.0.1/healthz', { method: 'GET' })).status).toBe(200);
  });
});
