/**
 * The web chat on a Redis that freezes for 3 s (SIGSTOP) at one precise command: longer than the
 * fail-fast connection's 1.5 s command deadline, so parley gives up on a command that Redis then
 * carries out once it wakes. The page sends a message refused with 503 again with the same id;
 * each message must still be shown once and answered once. Real Redis, a TCP proxy freezing it.
 */
import { describe, it, type ExpectStatic, type TestContext } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFreezingProxy, type FreezingProxy } from '../helpers/freezing-proxy.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const conversation = 'conv-frozen-0001';
const id = 'page-id-00000000000000000001';
const FREEZE_MS = 3000;

interface Frozen {
  redis: PrivateRedis;
  proxy: FreezingProxy;
  ai: FakeOpenAi;
  bot: WebBot;
}

/**
 * A bot whose Redis freezes (once) at the first command matching `trigger`; every server on a free
 * port. The test's own, closed when it finishes: the tests wait out their freezes side by side.
 */
async function setUp(test: TestContext, trigger: (command: string) => boolean): Promise<Frozen> {
  const redis = await startPrivateRedis([]);
  test.onTestFinished(() => redis.stop());
  const proxy = await startFreezingProxy(redis, trigger, FREEZE_MS);
  test.onTestFinished(() => proxy.close());
  const ai = await startFakeOpenAi((call, i) => ({ text: `answer #${i} to: ${lastUserText(call)}` }));
  test.onTestFinished(() => ai.close());
  const bot = await startWebBot({ REDIS_URL: proxy.url, OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test', CACHE_TTL_SECONDS: '0' });
  test.onTestFinished(() => bot.close());
  return { redis, proxy, ai, bot };
}

const post = (bot: WebBot) => bot.post(conversation, 'hello', { id });
/** Until the answer is shown; the transcript may not be readable meanwhile (a 503 while Redis is frozen). */
async function untilAnswered(bot: WebBot, timeoutMs = 10_000): Promise<void> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(50)) {
    const res = await fetch(`${bot.url}/web/conversations/${conversation}`);
    if (res.ok && ((await res.json()) as { messages: { role: string }[] }).messages.some((e) => e.role === 'assistant')) return;
  }
  throw new Error('never answered');
}
const shown = async (bot: WebBot) => (await bot.transcript(conversation)).map((e) => `${e.role}: ${e.text}`);
const answered = ['user: hello', 'assistant: answer #0 to: hello'];

/** Refused while Redis is frozen, sent again once it is awake: shown and answered once. */
async function refusedThenResent(expect: ExpectStatic, { bot, proxy, ai }: Frozen): Promise<void> {
  expect((await post(bot)).status).toBe(503);
  expect(proxy.frozen).toBe(1);
  await sleep(FREEZE_MS);
  expect((await post(bot)).status).toBe(202);
  await untilAnswered(bot);
  await sleep(500); // nothing more comes
  expect(await shown(bot)).toEqual(answered);
  expect(ai.calls).toHaveLength(1);
}

describe.concurrent('web chat, Redis frozen for 3 s at one step', () => {
  it('at the delivery claim: the message sent again after the 503 is shown and answered (the late claim is taken back)', async (test) => {
    await refusedThenResent(test.expect, await setUp(test, (c) => c.includes('parley:seen:web.')));
  }, 30_000);

  it("at the visitor's turn claim: the message sent again is answered and the visitor's message is shown", async (test) => {
    await refusedThenResent(test.expect, await setUp(test, (c) => c.includes('parley:web:turn:')));
  }, 30_000);

  it("at the message-id list write after the visitor's turn: the message sent again is shown once", async (test) => {
    await refusedThenResent(test.expect, await setUp(test, (c) => c.includes('parley:web:ids:')));
  }, 30_000);

  it('as the worker writes the answer to the transcript: the answer is shown once, and the AI asked once', async (test) => {
    const { expect } = test;
    const { bot, proxy, ai } = await setUp(test, (c) => c.includes('web:transcript:') && c.includes('"role":"assistant"'));
    expect((await post(bot)).status).toBe(202);
    await untilAnswered(bot);
    expect(proxy.frozen).toBe(1);
    await sleep(1500); // a retry would have answered again by now
    expect(await shown(bot)).toEqual(answered);
    expect(ai.calls).toHaveLength(1);
  }, 30_000);

  it("while the transcript cannot be read: the 503 does not say the message was not taken", async (test) => {
    const { expect } = test;
    const { bot, proxy } = await setUp(test, (c) => c.toLowerCase().includes('lrange') && c.includes('web:transcript:'));
    expect((await post(bot)).status).toBe(202);
    const read = await fetch(`${bot.url}/web/conversations/${conversation}`);
    expect(read.status).toBe(503);
    const { error } = (await read.json()) as { error: { message: string } };
    expect(error.message).not.toMatch(/message/);
    expect(error.message).toMatch(/retry/);
    expect(proxy.frozen).toBe(1);
  }, 30_000);
});
