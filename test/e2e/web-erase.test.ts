/** DELETE /web/conversations/<id> and what comes after it: a resent first message, the queue's finished jobs. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';
import { deleteKeys } from '../helpers/redis-keys.js';

const REDIS = 'redis://127.0.0.1:6379';
let nextPort = 5310;

async function post(web: WebBot, body: Record<string, unknown>): Promise<{ status: number; conversation: string }> {
  const res = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, conversation: ((await res.json()) as { conversation: string }).conversation };
}

describe('web chat: a first message resent after its conversation was deleted', () => {
  let ai: FakeOpenAi;
  let redis: Redis;
  const prefixes: string[] = [];
  beforeAll(async () => {
    ai = await startFakeOpenAi(undefined, { ports: [5300, 5301, 5302] });
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
      const web = await startWebBot({ OPENAI_BASE_URL: ai.url, CACHE_TTL_SECONDS: '0', ...env() }, {}, nextPort++);
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
