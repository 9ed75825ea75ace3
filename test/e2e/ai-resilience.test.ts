import { afterEach, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

describe('AI failures and savings, end to end', () => {
  let ai: FakeOpenAi | undefined;
  let web: WebBot | undefined;
  afterEach(async () => {
    await web?.close();
    await ai?.close();
    web = ai = undefined;
  });

  it('waits as Retry-After says after a 429, then replies once', async () => {
    ai = await startFakeOpenAi((call, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { text: `ok: ${lastUserText(call)}` }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url });
    await web.post('r429', 'are you there?');
    const entries = await web.waitFor('r429', (e) => assistantReplies(e).length === 1);
    expect(assistantReplies(entries).map((e) => e.text)).toEqual(['ok: are you there?']);
    expect(ai.calls).toHaveLength(2);
    expect(ai.calls[1]!.at - ai.calls[0]!.at).toBeGreaterThanOrEqual(950);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(assistantReplies(await web.transcript('r429'))).toHaveLength(1);
  });

  it('apologises once and dead-letters when the AI is down; a replay after recovery delivers', async () => {
    let down = true;
    ai = await startFakeOpenAi((call) => (down ? { status: 503 } : { text: `back: ${lastUserText(call)}` }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, AI_ATTEMPTS: '2', JOB_ATTEMPTS: '3', AI_BREAKER_THRESHOLD: '100' });
    await web.post('down', 'hello?');
    await web.waitFor('down', (e) => assistantReplies(e).length === 1);
    const bot = web.bot;
    await waitUntil(async () => (await bot.deadLetters.list()).length === 1);
    const [letter] = await bot.deadLetters.list();
    expect(letter).toMatchObject({ reason: 'attempts_exhausted', attempts: 3 });
    expect(letter!.error).toMatch(/503/);
    expect(ai.calls).toHaveLength(2 * 3);
    const afterFailure = assistantReplies(await web.transcript('down'));
    expect(afterFailure.map((e) => e.kind)).toEqual(['apology']);

    down = false;
    expect(await bot.deadLetters.replay(letter!.id)).toBe(true);
    const entries = await web.waitFor('down', (e) => assistantReplies(e).length === 2);
    expect(assistantReplies(entries).map((e) => e.text)).toEqual([afterFailure[0]!.text, 'back: hello?']);
    expect(await bot.deadLetters.list()).toEqual([]);
  });

  it('answers a repeated question from the cache without a second AI call', async () => {
    ai = await startFakeOpenAi();
    web = await startWebBot({ OPENAI_BASE_URL: ai.url });
    await web.post('cache-a', 'what are your opening hours?');
    await web.waitFor('cache-a', (e) => assistantReplies(e).length === 1);
    await web.post('cache-b', 'what are your opening hours?');
    const entries = await web.waitFor('cache-b', (e) => assistantReplies(e).length === 1);
    expect(assistantReplies(entries)[0]!.text).toBe('echo: what are your opening hours?');
    expect(ai.calls).toHaveLength(1);
    const metrics = await (await fetch(`${web.url}/metrics`)).text();
    expect(metrics).toContain('parley_cache_lookups_total{result="hit"} 1');
  });

  it('makes one AI call for identical questions asked at the same time', async () => {
    ai = await startFakeOpenAi((call) => ({ text: `slow: ${lastUserText(call)}`, delayMs: 1500 }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, CACHE_TTL_SECONDS: '0' });
    await Promise.all(['same-1', 'same-2', 'same-3'].map((c) => web!.post(c, 'identical question')));
    for (const c of ['same-1', 'same-2', 'same-3']) {
      const entries = await web.waitFor(c, (e) => assistantReplies(e).length === 1);
      expect(assistantReplies(entries)[0]!.text).toBe('slow: identical question');
    }
    expect(ai.calls).toHaveLength(1);
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition never held');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
