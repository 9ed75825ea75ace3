import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

/**
 * A message deferred in the in-memory queue (the AI said 429, Retry-After: 60) when the bot closes:
 * close does not wait for it past what can run before the deadline, and reports the message unfinished (memory mode loses it).
 */
describe('bot.close() with a deferred message in the memory queue', () => {
  let ai: FakeOpenAi | undefined;
  let web: WebBot | undefined;
  afterEach(async () => {
    await ai?.close();
    ai = web = undefined;
  });

  it('returns at once when the message is due only after SHUTDOWN_TIMEOUT_MS, and counts the deferred message unfinished', async () => {
    ai = await startFakeOpenAi(() => ({ status: 429, headers: { 'retry-after': '60' }, body: { error: { message: 'slow down', type: 'rate_limit', code: null, param: null } } }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, SHUTDOWN_TIMEOUT_MS: '10000', AI_MAX_WAIT_MS: '600000', AI_DEADLINE_MS: '90000' });
    await web.post('deferred', 'hello?');
    const until = Date.now() + 8000;
    while ((await web.bot.queue.counts()).delayed + (await web.bot.queue.counts()).active !== 1 || ai.calls.length < 1) {
      if (Date.now() > until) throw new Error(`never deferred: ${JSON.stringify(await web.bot.queue.counts())}, ${ai.calls.length} AI calls`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const began = Date.now();
    const closing = web.bot.close();
    const result = await Promise.race([closing, new Promise((resolve) => setTimeout(() => resolve('still closing'), 15_000))]);
    expect(result).toEqual({ unfinished: 1 });
    // Due in a minute, it cannot run before the deadline: close does not wait the 10 s for it.
    expect(Date.now() - began).toBeLessThan(2000);
  }, 20_000);
});
