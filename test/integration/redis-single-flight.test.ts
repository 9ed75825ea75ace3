/**
 * Single-flight across processes: two AI clients (as two worker processes would have) share a
 * Redis response cache; an identical question asked by both at once costs one AI call.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAiClient, RedisResponseCache, type AiClient } from '../../src/ai/index.js';
import { aiCallGate } from '../../src/ai-rate-limit.js';
import { createRedisLimiter } from '../../src/limit/index.js';
import { connectRedis, type RedisClient } from '../../src/store/index.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { REDIS_URL, deleteKeys, requireRedis } from './redis-helpers.js';

describe('AI single-flight through the Redis cache', () => {
  let ai: FakeOpenAi;
  const connections: RedisClient[] = [];
  const prefix = `test-${randomUUID()}:`;
  let admin: Awaited<ReturnType<typeof requireRedis>>;

  beforeAll(async () => {
    admin = await requireRedis();
    ai = await startFakeOpenAi((call) => ({ text: `slow: ${lastUserText(call)}`, delayMs: 400 }));
  });
  afterAll(async () => {
    await deleteKeys(admin, prefix);
    for (const c of connections) c.disconnect();
    admin.disconnect();
    await ai.close();
  });

  function client(admitCall?: () => Promise<void>): AiClient {
    const redis = connectRedis(REDIS_URL, { enableOfflineQueue: true });
    connections.push(redis);
    return createAiClient({ model: 'gpt-4o-mini', baseURL: ai.url, cacheTtlSeconds: 60, cache: new RedisResponseCache(redis, prefix), attempts: 1, ...(admitCall ? { admitCall } : {}) });
  }

  it('the process waiting for the other\'s answer takes nothing from AI_CALLS_PER_MINUTE: one call a minute answers both', async () => {
    const redis = connectRedis(REDIS_URL, { enableOfflineQueue: true });
    connections.push(redis);
    // One limit on Redis for both processes, as AI_CALLS_PER_MINUTE=1 makes it.
    const gate = aiCallGate(createRedisLimiter(redis, { points: 1, durationSeconds: 60, keyPrefix: `${prefix}ai-calls` }));
    const [one, two] = [client(gate), client(gate)];
    const request = { conversationId: 'c', history: [], text: `limited question ${randomUUID()}` };
    const [a, b] = await Promise.all([one.reply(request), two.reply(request)]);
    expect([a.text, b.text]).toEqual([`slow: ${request.text}`, `slow: ${request.text}`]);
    expect(ai.calls.filter((c) => lastUserText(c) === request.text)).toHaveLength(1);
    // The minute's one call is spent: a new question waits (a "wait", for the queue).
    await expect(one.reply({ conversationId: 'c', history: [], text: `another ${randomUUID()}` })).rejects.toMatchObject({ kind: 'rate_limited', isWait: true });
  });

  it('two processes asking the same question at once make one AI call; both get the answer', async () => {
    const [one, two] = [client(), client()];
    const request = { conversationId: 'c', history: [], text: `same question ${randomUUID()}` };
    const [a, b] = await Promise.all([one.reply(request), two.reply(request)]);
    expect(a.text).toBe(`slow: ${request.text}`);
    expect(b.text).toBe(a.text);
    expect(ai.calls.filter((c) => lastUserText(c) === request.text)).toHaveLength(1);
    expect([a.cached, b.cached].sort()).toEqual([false, true]);
  });

  it('when the process holding the claim fails, the other asks the AI itself', async () => {
    const [one, two] = [client(), client()];
    const text = `failing leader ${randomUUID()}`;
    let asked = 0;
    // The first call for this question (the claim holder's) fails; any later one succeeds.
    ai.script((call) => (lastUserText(call) === text && asked++ === 0 ? { status: 400, delayMs: 200 } : { text: `ok: ${lastUserText(call)}` }));
    const results = await Promise.allSettled([one.reply({ conversationId: 'c', history: [], text }), two.reply({ conversationId: 'c', history: [], text })]);
    const answered = results.filter((r) => r.status === 'fulfilled');
    expect(answered).toHaveLength(1);
    expect((answered[0] as PromiseFulfilledResult<{ text: string }>).value.text).toBe(`ok: ${text}`);
    expect(asked).toBe(2);
  });

  it('a claim is kept alive by its holder and released only by it: a late release leaves alone the claim another took after it expired', async () => {
    const redis = connectRedis(REDIS_URL, { enableOfflineQueue: true });
    connections.push(redis);
    const [mine, theirs] = [new RedisResponseCache(redis, prefix), new RedisResponseCache(redis, prefix)];
    const key = `claim-${randomUUID()}`;
    const claimedAt = Date.now();
    expect(await mine.claim(key, 1000)).toBe(true); // long enough for the extend to land inside it on a loaded machine
    expect(await mine.extend(key, 5000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, claimedAt + 1100 - Date.now()));
    expect(await theirs.claim(key, 5000)).toBe(false); // kept alive past its first 1000 ms
    expect(await theirs.claimed(key)).toBe(true);

    const other = `claim-${randomUUID()}`;
    expect(await mine.claim(other, 200)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300)); // expired: a slow call outlived it
    expect(await theirs.claim(other, 5000)).toBe(true);
    expect(await mine.extend(other, 5000)).toBe(false);
    await mine.release(other);
    expect(await theirs.claimed(other)).toBe(true);
    await theirs.release(other);
    expect(await theirs.claimed(other)).toBe(false);
  });
});
