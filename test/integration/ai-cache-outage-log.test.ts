/**
 * The AI response cache on a Redis that goes away: answers go on without it, and the logs say so
 * once, then once a minute, then once when the cache works again, where every answer wrote up to
 * three warn lines (read, single-flight claim, write), each with ioredis's words and a stack (a
 * chaos run: a 3 s Redis restart gave ~150 of them). A private redis-server, stopped and started
 * on its port; the AI faked over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAiClient, RedisResponseCache, type AiClient } from '../../src/ai/index.js';
import { connectRedis, type RedisClient } from '../../src/store/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

describe('the AI response cache while Redis is away', () => {
  let server: PrivateRedis;
  let redis: RedisClient;
  let ai: FakeOpenAi;
  let client: AiClient;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    server = await startPrivateRedis(['--appendonly', 'no']);
    // Fail-fast, as parley's own connections are.
    redis = connectRedis(server.url);
    redis.on('error', () => undefined);
    ai = await startFakeOpenAi();
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
    client = createAiClient({ model: 'gpt-4o-mini', baseURL: ai.url, cacheTtlSeconds: 60, cache: new RedisResponseCache(redis, `test-${randomUUID()}:`), attempts: 1, logger: pino({ level: 'info' }, sink) });
  }, 30_000);
  afterAll(async () => {
    redis?.disconnect();
    await ai?.close();
    await server?.stop();
  });

  const ask = (text: string) => client.reply({ conversationId: 'c', history: [], text });
  const cacheLines = () => lines.filter((line) => /cache/i.test(String(line.msg)));

  it('answers every question, with one warn line for the outage and one info line when the cache is back', async () => {
    expect((await ask('before')).text).toBe('echo: before');
    await server.stop();
    await until(() => redis.status !== 'ready' || undefined, 'the connection to notice');
    for (let i = 0; i < 5; i++) expect((await ask(`during ${i}`)).text).toBe(`echo: during ${i}`);
    const warned = cacheLines().filter((line) => line.level === 40);
    expect(warned).toHaveLength(1);
    expect(warned[0]!.msg).toMatch(/AI response cache .*logged once a minute/);

    await server.start();
    await until(() => redis.status === 'ready' || undefined, 'the connection back', 15_000);
    expect((await ask('after')).text).toBe('echo: after');
    const back = cacheLines().filter((line) => line.level === 30);
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({ msg: expect.stringMatching(/AI response cache .* again/), failedUses: expect.any(Number) });
    expect(cacheLines()).toHaveLength(2);
  }, 60_000);
});
