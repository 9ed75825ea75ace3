/**
 * DELETE /web/conversations/<id> takes the conversation's answers out of the AI response cache
 * (they often repeat what the visitor said): on Redis and in memory, answers it was given from
 * another conversation's entry too, and those of turns its history no longer holds. On Redis the
 * keys are noted in the same write as the history: no round trip of their own.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';
import { deleteKeys } from '../helpers/redis-keys.js';
import { startRedisRelay, type RedisRelay } from '../helpers/redis-relay.js';

const REDIS = 'redis://127.0.0.1:6379';

/** Ask in `conversation` and wait for its answer; how many AI calls it made. */
async function ask(web: WebBot, ai: FakeOpenAi, conversation: string, text: string): Promise<number> {
  const before = ai.calls.length;
  const answers = assistantReplies(await web.transcript(conversation)).length;
  expect((await web.post(conversation, text, { id: randomUUID().replace(/-/g, '') })).status).toBe(202);
  const entries = await web.waitFor(conversation, (e) => assistantReplies(e).length === answers + 1);
  expect(assistantReplies(entries).at(-1)?.text).toBe(`echo: ${text}`);
  return ai.calls.length - before;
}

async function erase(web: WebBot, conversation: string): Promise<void> {
  expect((await fetch(`${web.url}/web/conversations/${conversation}`, { method: 'DELETE' })).status).toBe(204);
}

/** The response cache's entries (not its single-flight claims) whose answer holds `text`. */
async function cachedHolding(redis: Redis, prefix: string, text: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}:ai-cache:*`, count: 1000 })) keys.push(...(batch as string[]));
  const entries = keys.filter((key) => !key.includes(':inflight:'));
  const values = await Promise.all(entries.map((key) => redis.get(key)));
  return entries.filter((_, i) => values[i]?.includes(text));
}

describe('web chat: DELETE erases the conversation’s answers from the AI response cache', () => {
  let ai: FakeOpenAi;
  let redis: Redis;
  let relay: RedisRelay;
  const prefixes: string[] = [];
  beforeAll(async () => {
    ai = await startFakeOpenAi();
    redis = new Redis(REDIS);
    relay = await startRedisRelay();
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(redis, `${prefix}:`);
    redis.disconnect();
    await relay.close();
    await ai.close();
  });

  const stores: [string, () => { env: Record<string, string>; prefix?: string }][] = [
    ['memory', () => ({ env: {} })],
    [
      'Redis',
      () => {
        const prefix = `t${randomUUID().slice(0, 8)}`;
        prefixes.push(prefix);
        // Through the relay: what the bot writes is seen on the wire.
        return { env: { REDIS_URL: relay.url, REDIS_PREFIX: prefix }, prefix };
      },
    ],
  ];
  for (const [name, store] of stores) {
    it(`an answer written or read by the erased conversation is asked again afterwards (${name})`, async () => {
      const { env, prefix } = store();
      const web = await startWebBot({ OPENAI_BASE_URL: ai.url, CACHE_TTL_SECONDS: '3600', ...env });
      const id = () => `c-${randomUUID().slice(0, 8)}`;
      const question = `my address is ${randomUUID().slice(0, 6)} Elm Street`;
      try {
        const first = id();
        expect(await ask(web, ai, first, question)).toBe(1);
        if (prefix) {
          expect(await cachedHolding(redis, prefix, question)).toHaveLength(1);
          // Noted with the history's write, in the same write to the socket.
          const noted = relay.writes.filter((chunk) => chunk.includes(`${prefix}:parley:answer-keys:web:${first}`));
          expect(noted.length).toBeGreaterThan(0);
          for (const chunk of noted) expect(chunk.toString()).toContain(`${prefix}:parley:history:web:${first}`);
        }
        // Another conversation is answered from the cache: no AI call.
        const reader = id();
        expect(await ask(web, ai, reader, question)).toBe(0);

        await erase(web, first);
        if (prefix) {
          expect(await cachedHolding(redis, prefix, question)).toEqual([]);
          expect(await redis.exists(`${prefix}:parley:answer-keys:web:${first}`)).toBe(0);
        }
        // A new conversation asking the same finds nothing kept: the AI is asked.
        const writer = id();
        expect(await ask(web, ai, writer, question)).toBe(1);

        // A conversation that read an entry another one wrote takes it too (the writer asks again once).
        const hitter = id();
        expect(await ask(web, ai, hitter, question)).toBe(0);
        await erase(web, hitter);
        expect(await ask(web, ai, id(), question)).toBe(1);
      } finally {
        await web.close();
      }
    });
  }

  it('answers to turns the history no longer holds are erased too (HISTORY_TURNS=2)', async () => {
    const prefix = `t${randomUUID().slice(0, 8)}`;
    prefixes.push(prefix);
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, CACHE_TTL_SECONDS: '3600', HISTORY_TURNS: '2', REDIS_URL: REDIS, REDIS_PREFIX: prefix });
    const first = `my phone is ${randomUUID().slice(0, 6)}`;
    try {
      for (const text of [first, 'and my email?', 'and my birthday?']) expect(await ask(web, ai, 'trimmed', text)).toBe(1);
      // The first question's turns are out of the history window now; its answer is still cached.
      expect(await redis.llen(`${prefix}:parley:history:web:trimmed`)).toBe(2);
      expect(await cachedHolding(redis, prefix, first)).toHaveLength(1);
      await erase(web, 'trimmed');
      expect(await cachedHolding(redis, prefix, first)).toEqual([]);
      expect(await ask(web, ai, 'fresh', first)).toBe(1);
    } finally {
      await web.close();
    }
  });
});
