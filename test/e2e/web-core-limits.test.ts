/**
 * A web message the core's own limits refuse (RATE_LIMIT_USER_PER_MINUTE…) is answered as the web
 * chat's limits answer: 429 with Retry-After, nothing in the transcript, no notice, and the id not
 * spent, so the same message sent again after the wait is answered, once. In memory, on Redis
 * (the queue's one-step admission) and in direct mode. The per-user limit is a real one with a
 * one-second window, so the wait is short.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webChat, type TranscriptEntry } from '../../adapters/web/index.js';
import { createBot, createMemoryLimiter, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { testEnv } from '../helpers/web-bot.js';

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let ai: FakeOpenAi;
beforeAll(async () => {
  ai = await startFakeOpenAi();
});
afterAll(() => ai.close());

const setups: [string, Record<string, string>][] = [
  ['memory, queue mode', {}],
  ['Redis, queue mode', { REDIS_URL: REDIS }],
  ['memory, direct mode', { MODE: 'direct' }],
];

describe.each(setups)('the core per-user limit on the web chat (%s)', (_name, env) => {
  let bot: Bot;
  let url: string;
  beforeAll(async () => {
    const config = loadConfig({ ...testEnv, OPENAI_BASE_URL: ai.url, REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`, CACHE_TTL_SECONDS: '0', ...env });
    // 2 messages a second per visitor: the same limiter RATE_LIMIT_USER_PER_MINUTE makes, shorter.
    const userLimiter = createMemoryLimiter({ points: 2, durationSeconds: 1, keyPrefix: `user-${randomUUID()}` });
    bot = createBot({ config, adapters: [webChat({ page: true })], userLimiter });
    // A free port of its own: a keep-alive connection to a closed bot's port must not be reused.
    url = `http://127.0.0.1:${((await bot.listen(0, '127.0.0.1')).address() as AddressInfo).port}`;
  });
  afterAll(() => bot.close());

  const post = (conversation: string, id: string, text: string) =>
    fetch(`${url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation, id, text }) });
  const transcript = async (conversation: string) =>
    ((await (await fetch(`${url}/web/conversations/${conversation}`)).json()) as { messages: TranscriptEntry[] }).messages.map((e) => `${e.role}: ${e.text}`);
  const settled = async (conversation: string, expected: string[]) => {
    const until = Date.now() + 8000;
    while (Date.now() < until && (await transcript(conversation)).length < expected.length) await new Promise((resolve) => setTimeout(resolve, 25));
    // Anything more (a notice, an answer twice) would have come by now. Two answers may cross: sorted.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await transcript(conversation)).sort()).toEqual([...expected].sort());
  };

  it('the third message in a second gets 429 with Retry-After, is not kept, and is answered once when sent again', async () => {
    const conversation = `c${randomUUID().replace(/-/g, '')}`;
    expect((await post(conversation, 'id-one', 'one')).status).toBe(202);
    expect((await post(conversation, 'id-two', 'two')).status).toBe(202);
    const refused = await post(conversation, 'id-three', 'three');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBe(1);
    expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited' } });
    // Neither the refused turn nor a notice: the visitor was told by the 429.
    await settled(conversation, ['user: one', 'assistant: echo: one', 'user: two', 'assistant: echo: two']);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await post(conversation, 'id-three', 'three')).status).toBe(202);
    await settled(conversation, ['user: one', 'assistant: echo: one', 'user: two', 'assistant: echo: two', 'user: three', 'assistant: echo: three']);
    // Sent once more, it is a repeat: 202, shown and answered once.
    expect((await post(conversation, 'id-three', 'three')).status).toBe(202);
    await settled(conversation, ['user: one', 'assistant: echo: one', 'user: two', 'assistant: echo: two', 'user: three', 'assistant: echo: three']);
  });
});
