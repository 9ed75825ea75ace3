import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

/**
 * A provider asking for a day (Retry-After: 86400), far past the 20 s a call waits between its
 * retries: the message is neither parked for a day nor retried against the provider's word. It
 * waits (no attempt spent) up to AI_MAX_WAIT_MS, then gets the one apology (dead letter max_wait).
 */
describe('a Retry-After longer than the backoff cap, end to end', () => {
  let ai: FakeOpenAi | undefined;
  let web: WebBot | undefined;
  afterEach(async () => {
    await web?.close();
    await ai?.close();
    web = ai = undefined;
  });

  for (const status of [429, 503, 500, 502]) {
    it(`a ${status} with Retry-After: 86400 makes one call, then the apology after AI_MAX_WAIT_MS (max_wait)`, async () => {
      ai = await startFakeOpenAi(() => ({ status, headers: { 'retry-after': '86400' }, body: { error: { message: `fake ${status}`, type: 'test_error', code: null, param: null } } }));
      // A deadline long enough for the inline retries (20 s apart) a short Retry-After would get.
      web = await startWebBot({ OPENAI_BASE_URL: ai.url, AI_MAX_WAIT_MS: '1500', AI_DEADLINE_MS: '90000', AI_TIMEOUT_MS: '3000' });
      const started = Date.now();
      await web.post(`day-${status}`, 'are you there?');
      const entries = await web.waitFor(`day-${status}`, (e) => assistantReplies(e).length === 1, 10_000);
      const waited = Date.now() - started;
      expect(assistantReplies(entries).map((e) => e.kind)).toEqual(['apology']);
      expect(waited).toBeGreaterThanOrEqual(1400);
      expect(waited).toBeLessThan(8000);
      const bot = web.bot;
      await waitUntil(async () => (await bot.deadLetters.list()).length === 1);
      expect((await bot.deadLetters.list())[0]).toMatchObject({ reason: 'max_wait' });
      // The provider asked for a day: nobody asked it again meanwhile.
      expect(ai.calls).toHaveLength(1);
    }, 20_000);
  }
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition never held');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
