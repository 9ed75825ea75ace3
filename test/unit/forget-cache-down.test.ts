/** An erase whose response cache is down (REDIS_CACHE_URL, a server of its own) still erases the rest, and says it failed. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenAiClient, type AiResult, type ResponseCache } from '../../src/ai/index.js';
import { ConversationHistory } from '../../src/ai/history.js';
import { CachedAnswers } from '../../src/cached-answers.js';
import { MemoryConversationLog } from '../../src/conversation-log.js';
import { forgetter } from '../../src/forget.js';
import { MemoryStore } from '../../src/store/index.js';
import { completion, FakeOpenAI, json } from '../ai/fake-openai.js';
import { request, testOptions } from '../ai/options.js';
import { conversation, silentLogger } from './helpers.js';

let server: FakeOpenAI;
beforeEach(async () => {
  server = await new FakeOpenAI().start();
});
afterEach(() => server.stop());

describe('forget with the response cache down', () => {
  it('erases the history, the conversation log and the queue jobs, and rejects with the cache’s failure', async () => {
    server.enqueue(json(200, completion('your address is 12 Elm Street')));
    const entries = new Map<string, AiResult>();
    const cache: ResponseCache = {
      get: async (key) => entries.get(key),
      set: async (key, value) => void entries.set(key, value),
      delete: async () => {
        throw new Error('connect ECONNREFUSED (the cache server)');
      },
    };
    const ai = new OpenAiClient(testOptions({ baseURL: server.baseURL, cacheTtlSeconds: 60, cache }));
    const store = new MemoryStore();
    const history = new ConversationHistory(store, { turns: 10, tokenBudget: 10_000, ttlSeconds: 60 });
    const cachedAnswers = new CachedAnswers(store, 60);
    const conversationLog = new MemoryConversationLog();
    const forgotten: string[][] = [];
    const queue = { forget: async (ids: string[]) => (forgotten.push(ids), { removed: ids.length, unfinished: 0 }) };

    const message = cachedAnswers.forMessage(ai, conversation(), silentLogger);
    const result = await message.ai.reply(request('where do I live?'));
    await message.with(history.append(conversation(), [{ role: 'user', text: 'where do I live?', at: new Date().toISOString() }]));
    await conversationLog.record({ id: 'j1', conversationId: 'c1', timestamp: new Date().toISOString(), platform: 'test', user: 'u1', input: 'where do I live?', output: result.text, model: result.model, inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 1 });

    const forget = forgetter({ history, cachedAnswers, ai, conversationLog }, queue);
    await expect(forget(conversation(), ['m1'])).rejects.toThrow('ECONNREFUSED');
    expect(await history.window(conversation())).toEqual([]);
    // What the cache could not delete: the log's entry (the question and answer) and the finished jobs are erased all the same.
    expect(await conversationLog.list('c1')).toEqual([]);
    expect(forgotten).toHaveLength(1);
    // The keys stay noted: a later erase can still take the answers out of the cache.
    expect(await store.listRange('parley:answer-keys:test:c1', 0, -1)).toEqual([result.cacheKey]);
  });
});
