/**
 * The console's conversation search says whether more conversations match than it returned
 * (`more`): at a limit's boundary (exactly the limit, one more) and at the API's maximum (500),
 * on the memory log and on Redis (a prefix of this file's own, its keys deleted afterwards).
 * Exchanges are recorded straight into the bot's own conversation log; the API is asked over HTTP.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationSummary } from '../../src/index.js';
import { exchange } from '../integration/conversation-log-contract.js';
import { REDIS_URL, deleteKeys, requireRedis, uniquePrefix } from '../integration/redis-helpers.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const TOKEN = 'console-more-admin-token-7a1d4e';

interface Found {
  conversations: ConversationSummary[];
  searchable: boolean;
  more: boolean;
}

const prefix = uniquePrefix();
const LOGS: [string, Record<string, string>][] = [
  ['memory', {}],
  ['Redis', { REDIS_URL, REDIS_PREFIX: prefix }],
];

for (const [name, env] of LOGS) {
  describe(`the console's "more" on the ${name} conversation log`, () => {
    let web: WebBot;
    let admin: Redis | undefined;
    /** How many conversations are recorded so far (c0, c1, …; a later one is more recent). */
    let recorded = 0;

    beforeAll(async () => {
      if (env.REDIS_URL) admin = await requireRedis();
      web = await startWebBot({ ...env, ADMIN_TOKEN: TOKEN, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    });
    afterAll(async () => {
      await web?.close();
      if (admin) {
        await deleteKeys(admin, prefix);
        admin.disconnect();
      }
    });

    /** Record conversations until there are `total`, one exchange each. */
    async function recordUpTo(total: number): Promise<void> {
      for (; recorded < total; recorded++) await web.bot.conversationLog.record(exchange(`c${recorded}`, recorded, { platform: 'web', user: `u${recorded}` }));
    }

    async function search(query: string): Promise<Found> {
      const res = await fetch(`${web.url}/console/api/conversations${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status, query).toBe(200);
      return (await res.json()) as Found;
    }
    const ids = (found: Found) => found.conversations.map((c) => c.conversationId);

    it('is false with exactly as many as the limit, true with one more, and the rows are the newest', async () => {
      await recordUpTo(50);
      if (admin) expect(await admin.llen(`${prefix}:convlog:recent`)).toBe(50); // the Redis log's index
      expect(await search('')).toMatchObject({ searchable: true, more: false });
      expect((await search('')).conversations).toHaveLength(50);
      expect(await search('?limit=50&sort=recent')).toMatchObject({ more: false });

      await recordUpTo(51);
      const first = await search('');
      expect(first).toMatchObject({ searchable: true, more: true });
      expect(ids(first)).toEqual(Array.from({ length: 50 }, (_, n) => `c${50 - n}`));
      const next = await search('?limit=100');
      expect(next.more).toBe(false);
      expect(ids(next)).toEqual([...ids(first), 'c0']);

      // the filters count: one user's one conversation is all there is
      expect(await search('?user=u7')).toMatchObject({ more: false, conversations: [expect.objectContaining({ conversationId: 'c7' })] });
      expect(await search('?limit=1')).toMatchObject({ more: true, conversations: [expect.objectContaining({ conversationId: 'c50' })] });
    });

    it('a limit below 1 or a fraction is held within 1…500 as a larger one is, never "none shown, more match"; one that is no number is the default', async () => {
      await recordUpTo(51);
      for (const limit of ['0', '-5', '0.5', '1.9', '-Infinity']) {
        const found = await search(`?limit=${limit}`);
        expect([ids(found), found.more], `limit=${limit}`).toEqual([['c50'], true]);
      }
      expect((await search('?limit=abc')).conversations).toHaveLength(50);
    });

    it('at the maximum (500): false with exactly 500, true with 501, and a larger limit still returns 500', async () => {
      await recordUpTo(500);
      const all = await search('?limit=500');
      expect(all.conversations).toHaveLength(500);
      expect(all.more).toBe(false);

      await recordUpTo(501);
      for (const limit of [500, 10_000]) {
        const capped = await search(`?limit=${limit}`);
        expect(capped.conversations, `limit=${limit}`).toHaveLength(500);
        expect(capped.more, `limit=${limit}`).toBe(true);
      }
    }, 30_000);
  });
}

describe('the console\'s "more" on a log that cannot search', () => {
  let web: WebBot;
  beforeAll(async () => {
    web = await startWebBot({ ADMIN_TOKEN: TOKEN, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }, { conversationLog: { record: async () => undefined, list: async () => [] } });
  });
  afterAll(() => web?.close());

  it('answers no conversations, not searchable, and no more', async () => {
    const res = await fetch(`${web.url}/console/api/conversations`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await res.json()).toEqual({ conversations: [], searchable: false, more: false });
  });
});
