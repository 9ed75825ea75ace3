/** DELETE /web/conversations/<id> and what comes after it: a resent first message, the queue's finished jobs. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';
import { deleteKeys } from '../helpers/redis-keys.js';

const REDIS = 'redis://127.0.0.1:6379';

/** The keys under `prefix` whose values hold any of `texts`. */
async function keysHolding(redis: Redis, prefix: string, texts: string[]): Promise<string[]> {
  const found: string[] = [];
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) keys.push(...(batch as string[]));
  for (const key of keys) {
    const type = await redis.type(key);
    const values =
      type === 'string' ? [await redis.get(key)]
      : type === 'hash' ? await redis.hvals(key)
      : type === 'list' ? await redis.lrange(key, 0, -1)
      : type === 'zset' ? await redis.zrange(key, 0, -1)
      : type === 'set' ? await redis.smembers(key)
      : type === 'stream' ? (await redis.xrange(key, '-', '+')).map((entry) => JSON.stringify(entry))
      : [];
    if (values.some((value) => texts.some((text) => value?.includes(text)))) found.push(key);
  }
  return found;
}

async function post(web: WebBot, body: Record<string, unknown>): Promise<{ status: number; conversation: string }> {
  const res = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, conversation: ((await res.json()) as { conversation: string }).conversation };
}

describe('web chat: a first message resent after its conversation was deleted', () => {
  let ai: FakeOpenAi;
  let redis: Redis;
  const prefixes: string[] = [];
  beforeAll(async () => {
    ai = await startFakeOpenAi();
    redis = new Redis(REDIS);
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(redis, `${prefix}:`);
    redis.disconnect();
    await ai.close();
  });

  const stores: [string, () => Record<string, string>][] = [
    ['memory', () => ({})],
    [
      'Redis',
      () => {
        const prefix = `t${randomUUID().slice(0, 8)}`;
        prefixes.push(prefix);
        return { REDIS_URL: REDIS, REDIS_PREFIX: prefix };
      },
    ],
  ];
  for (const [name, env] of stores) {
    it(`starts a fresh conversation that is answered (${name} store)`, async () => {
      const web = await startWebBot({ OPENAI_BASE_URL: ai.url, CACHE_TTL_SECONDS: '0', ...env() });
      try {
        const message = { text: 'resend me', id: `${randomUUID().replace(/-/g, '')}` };
        const first = await post(web, message);
        expect(first.status).toBe(202);
        await web.waitFor(first.conversation, (e) => assistantReplies(e).length === 1);
        // Sent again before the delete (its 202 was lost): the same conversation, answered once.
        expect((await post(web, message)).conversation).toBe(first.conversation);

        expect((await fetch(`${web.url}/web/conversations/${first.conversation}`, { method: 'DELETE' })).status).toBe(204);
        expect(await web.transcript(first.conversation)).toEqual([]);

        const again = await post(web, message);
        expect(again.status).toBe(202);
        expect(again.conversation).not.toBe(first.conversation);
        const entries = await web.waitFor(again.conversation, (e) => assistantReplies(e).length === 1);
        expect(entries.map((e) => [e.role, e.text])).toEqual([
          ['user', 'resend me'],
          ['assistant', 'echo: resend me'],
        ]);
        // The deleted one stays deleted, and a resend of the new one lands in the new one.
        expect(await web.transcript(first.conversation)).toEqual([]);
        expect((await post(web, message)).conversation).toBe(again.conversation);
      } finally {
        await web.close();
      }
    });
  }
});

describe('web chat on Redis: DELETE removes the conversation’s finished queue jobs (they hold its messages)', () => {
  let ai: FakeOpenAi;
  let redis: Redis;
  let web: WebBot;
  const prefix = `t${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    ai = await startFakeOpenAi(
      (call) => {
        const text = lastUserText(call);
        if (text.includes('fail')) return { status: 400, body: { error: { message: 'bad request', type: 'invalid_request_error' } } };
        return { text: `echo: ${text}`, delayMs: text.includes('slow') ? 1500 : 0 };
      },
    );
    redis = new Redis(REDIS);
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, CACHE_TTL_SECONDS: '0', REDIS_URL: REDIS, REDIS_PREFIX: prefix, JOB_ATTEMPTS: '1' });
  });
  afterAll(async () => {
    await web.close();
    await deleteKeys(redis, `${prefix}:`);
    redis.disconnect();
    await ai.close();
  });
  const jobKey = (conversation: string, id: string) => `${prefix}:messages:web.${conversation}.${id}`;

  it('an answered message and a dead-lettered one are gone from the queue; the visitor’s text is nowhere in Redis', async () => {
    const answered = await post(web, { conversation: 'erase-me', text: 'my secret question', id: 'msg-1' });
    expect(answered.status).toBe(202);
    await web.waitFor('erase-me', (e) => assistantReplies(e).length === 1);
    await post(web, { conversation: 'erase-me', text: 'please fail secretly', id: 'msg-2' });
    await web.waitFor('erase-me', (e) => assistantReplies(e).length === 2);
    await expect.poll(async () => redis.hget(jobKey('erase-me', 'msg-2'), 'failedReason'), { timeout: 5000 }).toBeTruthy();
    // Before: the queue keeps both (a day for the answered one, until replayed or purged for the failed one).
    expect(await redis.hget(jobKey('erase-me', 'msg-1'), 'data')).toContain('my secret question');
    expect(await redis.hget(jobKey('erase-me', 'msg-2'), 'data')).toContain('please fail secretly');

    expect((await fetch(`${web.url}/web/conversations/erase-me`, { method: 'DELETE' })).status).toBe(204);
    expect(await redis.exists(jobKey('erase-me', 'msg-1'), jobKey('erase-me', 'msg-2'))).toBe(0);
    expect((await web.bot.queue.deadLetters()).map((letter) => letter.id)).not.toContain('web.erase-me.msg-2');
    expect(await keysHolding(redis, prefix, ['my secret question', 'please fail secretly'])).toEqual([]);
  });

  it('on the in-memory queue, a dead-lettered message is dropped with its conversation', async () => {
    const memory = await startWebBot({ OPENAI_BASE_URL: ai.url, CACHE_TTL_SECONDS: '0', JOB_ATTEMPTS: '1' });
    try {
      await post(memory, { conversation: 'erase-dead', text: 'fail for me', id: 'msg-1' });
      await memory.waitFor('erase-dead', (e) => assistantReplies(e).length === 1);
      await expect.poll(async () => (await memory.bot.queue.deadLetters()).map((letter) => letter.id), { timeout: 5000 }).toContain('web.erase-dead.msg-1');
      expect((await fetch(`${memory.url}/web/conversations/erase-dead`, { method: 'DELETE' })).status).toBe(204);
      expect(await memory.bot.queue.deadLetters()).toEqual([]);
    } finally {
      await memory.close();
    }
  });

  it('a message still being answered is left in the queue: answered, its answer dropped, the conversation stays deleted', async () => {
    await post(web, { conversation: 'erase-busy', text: 'slow one', id: 'msg-1' });
    await expect.poll(() => ai.calls.some((call) => lastUserText(call) === 'slow one'), { timeout: 5000 }).toBe(true);
    expect((await fetch(`${web.url}/web/conversations/erase-busy`, { method: 'DELETE' })).status).toBe(204);
    await expect.poll(async () => redis.hget(jobKey('erase-busy', 'msg-1'), 'finishedOn'), { timeout: 5000 }).toBeTruthy();
    expect(await web.transcript('erase-busy')).toEqual([]);
  });
});
