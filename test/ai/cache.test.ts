import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheKey, normaliseQuestion, MemoryResponseCache, OpenAiClient, type AiResult, type ResponseCache } from '../../src/ai/index.js';
import { requestKey } from '../../src/ai/cache.js';
import { completion, delayed, error, FakeOpenAI, json } from './fake-openai.js';
import { request, testOptions } from './options.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

const turn = (role: 'user' | 'assistant', text: string, at = '2024-01-01T00:00:00Z') => ({ role, text, at });

describe('the question as the cache compares it', () => {
  it('ignores case, runs of whitespace and trailing punctuation, and nothing else', () => {
    const same = ['What is SSO?', 'what is sso', '  WHAT   is\tSSO ?!  ', 'What is SSO...', 'What is SSO？'];
    expect(new Set(same.map(normaliseQuestion))).toEqual(new Set(['what is sso']));
    // Words and inner punctuation still matter.
    expect(normaliseQuestion('What is SAML?')).not.toBe(normaliseQuestion('What is SSO?'));
    expect(normaliseQuestion('Is it on? Or off?')).toBe('is it on? or off');
    expect(normaliseQuestion('2.5')).toBe('2.5');
    // Punctuation alone is kept as written rather than shared by every "?".
    expect(normaliseQuestion(' ?? ')).toBe('??');
  });

  it('keeps what changes the question: characters that only look alike, line breaks and indentation', () => {
    expect(normaliseQuestion('What is 10² - 2?')).not.toBe(normaliseQuestion('What is 102 - 2?'));
    expect(normaliseQuestion('Explain ½')).not.toBe(normaliseQuestion('Explain 1⁄2'));
    const code = (last: string) => `Does this print hi?\nif False:\n    print(1)\n${last}`;
    expect(normaliseQuestion(code('print("hi")'))).not.toBe(normaliseQuestion(code('    print("hi")')));
    expect(normaliseQuestion('a:\n  b: 1')).not.toBe(normaliseQuestion('a:\nb: 1'));
    expect(normaliseQuestion('one\ntwo')).not.toBe(normaliseQuestion('one two'));
    // Within a line, and at its end, spaces still do not matter; nor does a Windows line break.
    expect(normaliseQuestion('If X:\r\n    Do   Y  \n')).toBe(normaliseQuestion('if x:\n    do y'));
    // The same text composed or decomposed is one question (NFC).
    expect(normaliseQuestion('Caf\u00e9?')).toBe(normaliseQuestion('cafe\u0301'));
  });

  it('takes time in proportion to the text: 50,000 blank lines do not block the process (within the test timeout)', () => {
    expect(normaliseQuestion(`a${' \n'.repeat(50_000)}b`)).toBe(`a${'\n'.repeat(50_000)}b`);
    expect(normaliseQuestion(`a${' \n'.repeat(50_000)}?`)).toBe('a');
  });

  it('gives one cache key to the variants of one question in the same context', () => {
    const key = (text: string) => cacheKey({ model: 'm', systemPrompt: 'p', maxOutputTokens: 10, history: [], text });
    expect(key('Reset my password!')).toBe(key('reset my   password'));
    expect(key('Reset my password')).not.toBe(key('Reset my passwords'));
  });
});

describe('response cache', () => {
  it('with 30% of questions repeated in other case, spacing and punctuation, makes at most 0.72 AI calls per message', async () => {
    server.otherwise(json(200, completion('an answer')));
    const hits: boolean[] = [];
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60, events: { onCache: (hit) => hits.push(hit) } }));
    const variants = [(q: string) => q.toUpperCase(), (q: string) => `  ${q.replace(/ /g, '  ')}  `, (q: string) => `${q}?!`];
    const messages: string[] = [];
    for (let i = 0; i < 70; i++) messages.push(`question number ${i} about the product`);
    for (let i = 0; i < 30; i++) messages.push(variants[i % 3]!(messages[i * 2]!));
    for (const text of messages) await client.reply(request(text));
    const callsPerMessage = server.requests.length / messages.length;
    expect(callsPerMessage).toBeLessThanOrEqual(0.72);
    expect(server.requests).toHaveLength(70);
    expect(hits.filter(Boolean)).toHaveLength(30);
  });

  // An empty answer is not an answer at all (a failure, never cached): test/ai/empty-answer.test.ts.
  it('never caches an answer cut off by max tokens or a filtered one: the next asker gets a fresh call', async () => {
    for (const [finish, text] of [['length', 'cut off mid'], ['content_filter', 'partial']] as const) {
      const before = server.requests.length;
      server.otherwise(json(200, { ...completion(text), choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: finish, logprobs: null }] }));
      const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60 }));
      const first = await client.reply(request(`a question ending in ${finish}`));
      const second = await client.reply(request(`a question ending in ${finish}`));
      expect([first.cached, second.cached]).toEqual([false, false]);
      expect(server.requests.length - before).toBe(2);
    }
  });

  it('says whether it holds an answer (what the calls-per-minute limit asks), without calling the AI', async () => {
    server.otherwise(json(200, completion('kept')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60 }));
    expect(await client.hasCached(request('kept question'))).toBe(false);
    await client.reply(request('kept question'));
    expect(await client.hasCached(request('Kept question?'))).toBe(true);
    expect(server.requests).toHaveLength(1);
    const uncached = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 0 }));
    expect(await uncached.hasCached(request('kept question'))).toBe(false);
  });

  it('answers the same request twice with one call, the second from the cache', async () => {
    server.otherwise(json(200, completion('cached answer', { prompt_tokens: 100, completion_tokens: 10 })));
    const hits: boolean[] = [];
    const client = new OpenAiClient(
      testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60, events: { onCache: (hit) => hits.push(hit) } }),
    );

    const first = await client.reply(request('same'));
    const second = await client.reply(request('same'));

    expect(server.requests).toHaveLength(1);
    expect(first.cached).toBe(false);
    expect(first.usage.inputTokens).toBe(100);
    expect(second).toMatchObject({ text: 'cached answer', model: first.model, cached: true });
    // Nothing was billed for the second answer.
    expect(second.usage).toEqual({ inputTokens: 0, outputTokens: 0, costUsd: 0 });
    expect(hits).toEqual([false, true]);
  });

  it('calls every time when cacheTtlSeconds is 0', async () => {
    server.otherwise(json(200, completion('fresh')));
    const hits: boolean[] = [];
    const client = new OpenAiClient(
      testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 0, events: { onCache: (hit) => hits.push(hit) } }),
    );

    const first = await client.reply(request('same'));
    const second = await client.reply(request('same'));

    expect(server.requests).toHaveLength(2);
    expect([first.cached, second.cached]).toEqual([false, false]);
    expect(hits).toEqual([]);
  });

  it('does not share answers between different histories', async () => {
    server.otherwise(json(200, completion('depends')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60 }));

    await client.reply(request('and then?', [turn('user', 'story about a cat')]));
    const other = await client.reply(request('and then?', [turn('user', 'story about a dog')]));

    expect(server.requests).toHaveLength(2);
    expect(other.cached).toBe(false);
  });

  it('does not cache failures', async () => {
    server.enqueue(error(400), json(200, completion('now it works')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60 }));

    await expect(client.reply(request())).rejects.toMatchObject({ kind: 'client' });
    expect((await client.reply(request())).text).toBe('now it works');
    expect(server.requests).toHaveLength(2);
  });

  it('still answers when the cache store is broken', async () => {
    server.otherwise(json(200, completion('despite the cache')));
    const broken: ResponseCache = {
      get: () => Promise.reject(new Error('redis down')),
      set: () => Promise.reject(new Error('redis down')),
    };
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60, cache: broken }));

    expect((await client.reply(request())).text).toBe('despite the cache');
  });

  it('uses a given cache with the configured TTL', async () => {
    server.otherwise(json(200, completion('stored')));
    const sets: Array<{ key: string; ttlMs: number }> = [];
    const store = new Map<string, AiResult>();
    const cache: ResponseCache = {
      get: async (key) => store.get(key),
      set: async (key, value, ttlMs) => {
        sets.push({ key, ttlMs });
        store.set(key, value);
      },
    };
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 90, cache }));

    await client.reply(request('x'));

    expect(sets).toEqual([{ key: expect.stringMatching(/^[0-9a-f]{64}$/), ttlMs: 90_000 }]);
  });
});

describe('answers kept by an older parley', () => {
  it('leaves out a <think> block an answer was kept with (before they were left out), replied or streamed; one that is only thinking is a miss', async () => {
    server.otherwise(json(200, completion('asked again')));
    const store = new Map<string, AiResult>();
    const cache: ResponseCache = { get: async (key) => store.get(key), set: async (key, value) => void store.set(key, value) };
    const options = testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60, cache });
    const client = new OpenAiClient(options);
    // The cache is shared with the processes of the previous release while a deploy rolls, and outlives it.
    const keep = (question: string, text: string) => store.set(requestKey(options, request(question)), { text, model: 'm', usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 }, cached: false });
    keep('hours?', '<think>They ask about hours.</think>\n\nWe open at 9.');
    keep('days?', '<think>Days.</think>Monday to Friday.');
    keep('never done?', '<think>still thinking when it was cut');

    expect(await client.reply(request('hours?'))).toMatchObject({ text: 'We open at 9.', cached: true });
    const streamed = client.stream(request('days?'));
    const chunks: string[] = [];
    for await (const chunk of streamed.chunks) chunks.push(chunk);
    expect(chunks.join('')).toBe('Monday to Friday.');
    expect((await streamed.result).text).toBe('Monday to Friday.');
    expect(server.requests).toHaveLength(0);
    expect(await client.reply(request('never done?'))).toMatchObject({ text: 'asked again', cached: false });
    expect(server.requests).toHaveLength(1);
  });
});

describe('single flight', () => {
  it('makes one call for identical requests in flight at the same time', async () => {
    server.otherwise(delayed(150, json(200, completion('shared'))));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60 }));

    const [a, b] = await Promise.all([client.reply(request('same')), client.reply(request('same'))]);

    expect(server.requests).toHaveLength(1);
    expect(a.text).toBe('shared');
    expect(b.text).toBe('shared');
    // Exactly one of them paid for it.
    expect([a.cached, b.cached].sort()).toEqual([false, true]);
  });

  it('shares a call in flight with the cache off too (CACHE_TTL_SECONDS=0), but keeps nothing once it is settled', async () => {
    server.otherwise(delayed(150, json(200, completion('shared'))));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 0 }));

    const [a, b] = await Promise.all([client.reply(request('same')), client.reply(request('same'))]);

    expect(server.requests).toHaveLength(1);
    expect([a.cached, b.cached].sort()).toEqual([false, true]);
    await client.reply(request('same'));
    expect(server.requests).toHaveLength(2);
  });

  it('keeps the shared call going when only one of its callers cancels', async () => {
    server.otherwise(delayed(200, json(200, completion('for the patient one'))));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60 }));
    const impatient = new AbortController();

    const first = client.reply(request('same'), { signal: impatient.signal });
    const second = client.reply(request('same'));
    setTimeout(() => impatient.abort(), 50);

    await expect(first).rejects.toMatchObject({ kind: 'aborted' });
    expect((await second).text).toBe('for the patient one');
    expect(server.requests).toHaveLength(1);
  });
});

describe('cacheKey', () => {
  const parts = { model: 'gpt-4o-mini', systemPrompt: 'S', maxOutputTokens: 100, history: [turn('user', 'a')], text: 'q' };

  it('is stable and ignores turn timestamps, which are not sent', () => {
    expect(cacheKey(parts)).toBe(cacheKey({ ...parts, history: [turn('user', 'a', '2030-01-01T00:00:00Z')] }));
  });

  it('changes with each part that shapes the answer', () => {
    const base = cacheKey(parts);
    const variants = [
      { model: 'gpt-4o' },
      { systemPrompt: 'T' },
      { maxOutputTokens: 101 },
      { history: [turn('assistant', 'a')] },
      { history: [] },
      { text: 'r' },
      { imageUrls: ['https://example.com/a.png'] },
    ];
    const keys = variants.map((v) => cacheKey({ ...parts, ...v }));
    expect(new Set([base, ...keys]).size).toBe(variants.length + 1);
  });
});

describe('MemoryResponseCache', () => {
  it('forgets entries after their TTL', async () => {
    const cache = new MemoryResponseCache();
    const value = { text: 't', model: 'm', usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 }, cached: false };
    await cache.set('k', value, 50);
    expect(await cache.get('k')).toEqual(value);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await cache.get('k')).toBeUndefined();
  });

  it('evicts the least recently used entry beyond its size', async () => {
    const cache = new MemoryResponseCache(2);
    const value = { text: 't', model: 'm', usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 }, cached: false };
    await cache.set('a', value, 60_000);
    await cache.set('b', value, 60_000);
    await cache.get('a');
    await cache.set('c', value, 60_000);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBeDefined();
  });
});
