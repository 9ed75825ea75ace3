import { afterEach, describe, expect, it, vi } from 'vitest';
import { check, checkAi, checkAiFallback } from '../../cli/check.js';
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

  it('each HTTP request counts in parley_ai_calls_total: a refused key as outcome client, the primary and the fallback (OPENAI_FALLBACK_*) alike', async () => {
    ai = await startFakeOpenAi(undefined, { acceptKeys: ['good-key'] });
    web = await startWebBot({
      OPENAI_BASE_URL: ai.url,
      OPENAI_API_KEY: 'bad-key,good-key',
      OPENAI_FALLBACK_MODEL: 'cheap-model',
      OPENAI_FALLBACK_BASE_URL: ai.url,
      OPENAI_FALLBACK_API_KEY: 'older-key,good-key',
      AI_BUDGET_POLICY: 'fallback',
      AI_BUDGET_USD_PER_DAY: '0.000001',
      CACHE_TTL_SECONDS: '0',
    });
    await web.post('keys-3', 'one');
    await web.waitFor('keys-3', (e) => assistantReplies(e).length === 1);
    await web.post('keys-3', 'two'); // past the budget: the fallback answers
    await web.waitFor('keys-3', (e) => assistantReplies(e).length === 2);
    expect(ai.calls.map((c) => [c.body.model, c.key])).toEqual([
      ['gpt-4o-mini', 'bad-key'],
      ['gpt-4o-mini', 'good-key'],
      ['cheap-model', 'older-key'],
      ['cheap-model', 'good-key'],
    ]);
    const metrics = await (await fetch(`${web.url}/metrics`)).text();
    const calls = metrics.split('\n').filter((line) => line.startsWith('parley_ai_calls_total{')).sort();
    expect(calls).toEqual([
      'parley_ai_calls_total{model="cheap-model",outcome="client"} 1',
      'parley_ai_calls_total{model="cheap-model",outcome="ok"} 1',
      'parley_ai_calls_total{model="gpt-4o-mini",outcome="client"} 1',
      'parley_ai_calls_total{model="gpt-4o-mini",outcome="ok"} 1',
    ]);
    expect(metrics).toMatch(/^parley_ai_key_rejected_total 2$/m);
  });

  it("each request's latency is its own in parley_ai_latency_seconds: the call with the next key does not carry the refused one's time", async () => {
    const REFUSAL_DELAY_MS = 2000;
    // The first key's request is held before its 401, the next key's answered at once.
    const refusal = { status: 401, body: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } }, delayMs: REFUSAL_DELAY_MS };
    ai = await startFakeOpenAi((call) => (call.key === 'bad-key' ? refusal : {}));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'bad-key,good-key', AI_ATTEMPTS: '1', CACHE_TTL_SECONDS: '0' });
    await web.post('keys-4', 'hello');
    await web.waitFor('keys-4', (e) => assistantReplies(e).length === 1);
    expect(ai.calls.map((c) => c.key)).toEqual(['bad-key', 'good-key']);
    const metrics = await (await fetch(`${web.url}/metrics`)).text();
    const sum = (outcome: string) => Number(new RegExp(`^parley_ai_latency_seconds_sum\\{model="gpt-4o-mini",outcome="${outcome}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    const count = (outcome: string) => Number(new RegExp(`^parley_ai_latency_seconds_count\\{model="gpt-4o-mini",outcome="${outcome}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect([count('error'), count('ok')]).toEqual([1, 1]);
    // The refused request took the delay; the answered one, on loopback, far less (the old code
    // recorded both for it: at least the delay). Bounds generous either way, never a timing race.
    expect(sum('error')).toBeGreaterThanOrEqual((REFUSAL_DELAY_MS - 50) / 1000);
    expect(sum('ok')).toBeLessThan(REFUSAL_DELAY_MS / 2 / 1000);
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

describe('parley check and the fallback provider (OPENAI_FALLBACK_MODEL)', () => {
  let primary: FakeOpenAi | undefined;
  let fallback: FakeOpenAi | undefined;
  afterEach(async () => {
    await primary?.close();
    await fallback?.close();
    primary = fallback = undefined;
  });

  /** `parley check`'s exit code and printed lines. */
  async function parleyCheck(env: Record<string, string>): Promise<{ code: number; printed: string[] }> {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
    try {
      return { code: await check(loadConfig({ ...testEnv, ...env })), printed };
    } finally {
      log.mockRestore();
    }
  }

  it("tries each of OPENAI_FALLBACK_API_KEY's keys at OPENAI_FALLBACK_BASE_URL: a refused one named by its number, all refused or unreachable a FAIL", async () => {
    primary = await startFakeOpenAi();
    fallback = await startFakeOpenAi(undefined, { acceptKeys: ['sk-fbnew'] });
    const env = { OPENAI_API_KEY: 'sk-old', OPENAI_BASE_URL: primary.url, OPENAI_FALLBACK_MODEL: 'gpt-4o-mini', OPENAI_FALLBACK_BASE_URL: fallback.url };

    const mixed = await parleyCheck({ ...env, OPENAI_FALLBACK_API_KEY: 'sk-fbold,sk-fbnew' });
    expect(mixed.code).toBe(0);
    expect(mixed.printed).toContain(`warn  AI fallback provider: ${fallback.url}: model gpt-4o-mini is available; OPENAI_FALLBACK_API_KEY key #1 of 2 refused (401)`);

    const refused = await parleyCheck({ ...env, OPENAI_FALLBACK_API_KEY: 'sk-fbold,sk-fbolder' });
    expect(refused.code).toBe(1);
    expect(refused.printed).toContain(`FAIL  AI fallback provider: ${fallback.url}: OPENAI_FALLBACK_API_KEY key #1 of 2 refused (401); OPENAI_FALLBACK_API_KEY key #2 of 2 refused (401)`);
    expect(refused.printed.join('\n')).not.toMatch(/fbold|fbolder|fbnew/);

    // Without OPENAI_FALLBACK_API_KEY the fallback uses OPENAI_API_KEY's keys, and is told under that name.
    const inherited = await checkAiFallback(loadConfig({ ...testEnv, ...env }));
    expect(inherited).toEqual({ ok: false, what: 'AI fallback provider', detail: `${fallback.url}: OPENAI_API_KEY key #1 of 1 refused (401)` });
    // Without OPENAI_FALLBACK_BASE_URL it is asked at OPENAI_BASE_URL.
    const sameServer = await checkAiFallback(loadConfig({ ...testEnv, OPENAI_API_KEY: 'sk-old', OPENAI_BASE_URL: primary.url, OPENAI_FALLBACK_MODEL: 'gpt-4o-mini' }));
    expect(sameServer).toEqual({ ok: true, what: 'AI fallback provider', detail: `${primary.url}: model gpt-4o-mini is available` });

    const unreachable = await parleyCheck({ ...env, OPENAI_FALLBACK_BASE_URL: 'http://127.0.0.1:6599/v1', OPENAI_FALLBACK_API_KEY: 'sk-fbnew' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.printed).toContainEqual(expect.stringMatching(/^FAIL {2}AI fallback provider: http:\/\/127\.0\.0\.1:6599\/v1: /));
    expect(await checkAiFallback(loadConfig({ ...testEnv, OPENAI_API_KEY: 'sk-old' }))).toBeUndefined();
  });
});
