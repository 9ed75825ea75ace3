import { afterEach, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

/** AI_CALLS_PER_MINUTE is spent only on calls that reach the provider. */
describe('AI_CALLS_PER_MINUTE and answers that make no AI call, end to end', () => {
  let ai: FakeOpenAi | undefined;
  let web: WebBot | undefined;
  afterEach(async () => {
    await web?.close();
    await ai?.close();
    web = ai = undefined;
  });

  it('identical questions asked at the same time share one call and one token: all are answered within seconds', async () => {
    ai = await startFakeOpenAi((call) => ({ text: `shared: ${lastUserText(call)}`, delayMs: 500 }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, AI_CALLS_PER_MINUTE: '1', CACHE_TTL_SECONDS: '0' });
    const conversations = ['burst-1', 'burst-2', 'burst-3', 'burst-4', 'burst-5'];
    const started = Date.now();
    await Promise.all(conversations.map((c) => web!.post(c, 'is the service down?')));
    for (const c of conversations) {
      // Well within the minute: a joined call must not wait for the next token.
      const entries = await web.waitFor(c, (e) => assistantReplies(e).length === 1, 5000);
      expect(assistantReplies(entries).map((e) => e.text)).toEqual(['shared: is the service down?']);
    }
    expect(Date.now() - started).toBeLessThan(5000);
    expect(ai.calls).toHaveLength(1);
  });

  it('a burst of one question, then the same from the cache, leaves the minute\'s second token for a new question', async () => {
    ai = await startFakeOpenAi((call) => ({ text: `answer: ${lastUserText(call)}`, delayMs: 300 }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, AI_CALLS_PER_MINUTE: '2', CACHE_TTL_SECONDS: '60' });
    const burst = ['cached-1', 'cached-2', 'cached-3'];
    await Promise.all(burst.map((c) => web!.post(c, 'opening hours?')));
    for (const c of burst) await web.waitFor(c, (e) => assistantReplies(e).length === 1, 3000);
    // Asked again later: the cache answers, and takes nothing from the limit either.
    for (const c of ['cached-4', 'cached-5']) {
      await web.post(c, 'Opening hours');
      const entries = await web.waitFor(c, (e) => assistantReplies(e).length === 1, 3000);
      expect(assistantReplies(entries)[0]!.text).toBe('answer: opening hours?');
    }
    await web.post('fresh', 'a new question');
    const entries = await web.waitFor('fresh', (e) => assistantReplies(e).length === 1, 3000);
    expect(assistantReplies(entries)[0]!.text).toBe('answer: a new question');
    expect(ai.calls).toHaveLength(2);
  });
});
