/** A message's cached answers noted for its conversation's erase: streamed ones too, none with the cache off, a cache without `delete` left as it was. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryResponseCache, OpenAiClient, type AiResult, type ResponseCache } from '../../src/ai/index.js';
import { CachedAnswers } from '../../src/cached-answers.js';
import { MemoryStore, type Store } from '../../src/store/index.js';
import { cachedAnswersFor } from '../../src/forget.js';
import { completion, FakeOpenAI, json, sse } from '../ai/fake-openai.js';
import { request, testOptions } from '../ai/options.js';
import { conversation, silentLogger } from './helpers.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

const NOTED = 'parley:answer-keys:test:c1';

describe('CachedAnswers', () => {
  it('notes a streamed answer and one read back from the cache with the next write, and forget deletes both from the cache', async () => {
    server.enqueue(sse(['my ', 'secret']));
    server.enqueue(json(200, completion('another secret')));
    const cache = new MemoryResponseCache();
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60, cache }));
    const store = new MemoryStore();
    const answers = new CachedAnswers(store, 60);

    const message = answers.forMessage(client, conversation(), silentLogger);
    const stream = message.ai.stream!(request('tell me'));
    for await (const chunk of stream.chunks) void chunk;
    const streamed = await stream.result;
    const replied = await message.ai.reply(request('tell me more'));
    const again = await message.ai.fromCache!(request('tell me'));
    expect(again).toMatchObject({ text: 'my secret', cached: true, cacheKey: streamed.cacheKey });
    // Nothing is written until the message's next write; then once, alongside it.
    expect(await store.listRange(NOTED, 0, -1)).toEqual([]);
    expect(await message.with(Promise.resolve('history written'))).toBe('history written');
    expect(await store.listRange(NOTED, 0, -1)).toEqual([streamed.cacheKey, replied.cacheKey]);
    await message.flush();
    expect(await store.listRange(NOTED, 0, -1)).toHaveLength(2);

    await answers.forget(conversation(), client);
    expect(await cache.get(streamed.cacheKey!)).toBeUndefined();
    expect(await cache.get(replied.cacheKey!)).toBeUndefined();
    expect(await store.listRange(NOTED, 0, -1)).toEqual([]);
    expect(server.requests).toHaveLength(2);
  });

  it('with the cache off, an answer names no key and nothing is noted', async () => {
    server.enqueue(json(200, completion('not kept')));
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 0 }));
    const store = new MemoryStore();
    const message = new CachedAnswers(store, 0).forMessage(client, conversation(), silentLogger);
    expect((await message.ai.reply(request())).cacheKey).toBeUndefined();
    await message.flush();
    expect(await store.listRange(NOTED, 0, -1)).toEqual([]);
  });

  it('a cache of your own without delete keeps working: the erase leaves its answers to their TTL', async () => {
    server.enqueue(json(200, completion('kept')));
    const entries = new Map<string, AiResult>();
    const own: ResponseCache = { get: async (key) => entries.get(key), set: async (key, value) => void entries.set(key, value) };
    const client = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60, cache: own }));
    const answers = new CachedAnswers(new MemoryStore(), 60);
    const message = answers.forMessage(client, conversation(), silentLogger);
    await message.ai.reply(request());
    await message.flush();
    await expect(answers.forget(conversation(), client)).resolves.toBeUndefined();
    expect(entries.size).toBe(1);
  });

  it('is noted only where an erase can reach the cache: not for a per-process cache beside a shared store (DynamoDB)', async () => {
    const shared = { kind: 'a store of other processes too' } as unknown as Store;
    expect(cachedAnswersFor(shared, new MemoryResponseCache(), 3600)).toBeUndefined();
    expect(cachedAnswersFor(new MemoryStore(), new MemoryResponseCache(), 3600)).toBeInstanceOf(CachedAnswers);
    const sharedCache: ResponseCache = { get: async () => undefined, set: async () => undefined, delete: async () => undefined };
    expect(cachedAnswersFor(shared, sharedCache, 3600)).toBeInstanceOf(CachedAnswers);
  });
});
