import { afterEach, describe, expect, it } from 'vitest';
import { checkAi } from '../../cli/check.js';
import { loadConfig } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { assistantReplies, startWebBot, testEnv, type WebBot } from '../helpers/web-bot.js';

describe('OPENAI_API_KEY with several keys, end to end', () => {
  let ai: FakeOpenAi | undefined;
  let web: WebBot | undefined;
  afterEach(async () => {
    await web?.close();
    await ai?.close();
    web = ai = undefined;
  });

  it('a refused first key gives way to the next: one answer, one refusal counted', async () => {
    ai = await startFakeOpenAi(undefined, { acceptKeys: ['good-key'] });
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'bad-key,good-key', AI_ATTEMPTS: '1' });
    await web.post('keys-1', 'hello');
    const entries = await web.waitFor('keys-1', (e) => assistantReplies(e).length === 1);
    expect(assistantReplies(entries).map((e) => [e.kind, e.text])).toEqual([['answer', 'echo: hello']]);
    await web.post('keys-1', 'again');
    await web.waitFor('keys-1', (e) => assistantReplies(e).length === 2);
    expect(ai.calls.map((c) => c.key)).toEqual(['bad-key', 'good-key', 'good-key']);
    const metrics = await (await fetch(`${web.url}/metrics`)).text();
    expect(metrics).toMatch(/^parley_ai_key_rejected_total 1$/m);
  });

  it('every key refused: the one apology, the dead letters at once, and no key in the error', async () => {
    ai = await startFakeOpenAi(undefined, { acceptKeys: ['good-key'] });
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'old-key-1234,older-key-5678', JOB_ATTEMPTS: '3' });
    await web.post('keys-2', 'hello?');
    const entries = await web.waitFor('keys-2', (e) => assistantReplies(e).length === 1);
    expect(assistantReplies(entries).map((e) => e.kind)).toEqual(['apology']);
    const bot = web.bot;
    const until = Date.now() + 5000;
    while ((await bot.deadLetters.list()).length === 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 25));
    const [letter] = await bot.deadLetters.list();
    expect(letter!.attempts).toBe(1);
    expect(letter!.error).toContain('AI provider refused all 2 API keys (401 invalid_api_key)');
    expect(letter!.error).not.toMatch(/1234|5678|old-key|older-key/);
    expect(ai.calls.map((c) => c.key)).toEqual(['old-key-1234', 'older-key-5678']);
  });

  it('parley check tries each key and names a refused one by its number only', async () => {
    ai = await startFakeOpenAi(undefined, { acceptKeys: ['good-key'] });
    const mixed = await checkAi(loadConfig({ ...testEnv, OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'revoked-key-9876,good-key' }));
    expect(mixed).toEqual({ ok: 'warn', what: 'AI provider', detail: `${ai.url}: model gpt-4o-mini is available; key #1 of 2 refused (401)` });
    const none = await checkAi(loadConfig({ ...testEnv, OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'revoked-key-9876' }));
    expect(none).toEqual({ ok: false, what: 'AI provider', detail: `${ai.url}: key #1 of 1 refused (401)` });
  });
});
