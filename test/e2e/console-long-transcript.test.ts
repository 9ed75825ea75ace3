/**
 * A conversation longer than the console's transcript shows (500 exchanges): the list counts every
 * exchange, so the transcript says (`more`) that it shows only the newest 500. On the memory log, which
 * keeps them all; on Redis (which keeps a conversation's newest 500 only) it still shows the newest 500.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationSummary } from '../../src/index.js';
import { exchange } from '../integration/conversation-log-contract.js';
import { REDIS_URL, deleteKeys, requireRedis, uniquePrefix } from '../integration/redis-helpers.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const TOKEN = 'console-long-transcript-token-5c2e';
const prefix = uniquePrefix();
const LOGS: [string, Record<string, string>][] = [
  ['memory', {}],
  ['Redis', { REDIS_URL, REDIS_PREFIX: prefix }],
];

for (const [name, env] of LOGS) {
  describe(`a 620-exchange conversation on the ${name} log`, () => {
    let web: WebBot;
    let admin: Redis | undefined;

    beforeAll(async () => {
      if (env.REDIS_URL) admin = await requireRedis();
      web = await startWebBot({ ...env, ADMIN_TOKEN: TOKEN, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
      for (let i = 0; i < 620; i++) await web.bot.conversationLog.record(exchange('long', i, { platform: 'web', user: 'u1', input: `q ${i} שלום 👋` }));
      await web.bot.conversationLog.record(exchange('short', 700, { platform: 'web', user: 'u2' }));
    });
    afterAll(async () => {
      await web?.close();
      if (admin) {
        await deleteKeys(admin, prefix);
        admin.disconnect();
      }
    });

    async function get<T>(path: string): Promise<T> {
      const res = await fetch(`${web.url}/console/api${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status, path).toBe(200);
      return (await res.json()) as T;
    }

    it('shows the newest 500, oldest first, and says older ones are left out', async () => {
      const found = await get<{ conversations: ConversationSummary[] }>('/conversations?user=u1');
      expect(found.conversations[0]!.exchanges).toBe(620);
      const long = await get<{ entries: { input: string }[]; more?: boolean }>('/conversations/long');
      expect(long.entries).toHaveLength(500);
      expect(long.entries[0]!.input).toBe('q 120 שלום 👋');
      expect(long.entries.at(-1)!.input).toBe('q 619 שלום 👋');
      // Redis keeps no older ones to speak of
      expect(long.more).toBe(!env.REDIS_URL);
      const short = await get<{ entries: unknown[]; more?: boolean }>('/conversations/short');
      expect(short.entries).toHaveLength(1);
      expect(short.more).toBe(false);
    });
  });
}
