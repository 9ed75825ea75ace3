/**
 * "Who waited longest?" in the console counts the people who got the apology: a message given up
 * (here: the AI down, its breaker open, AI_MAX_WAIT_MS over) is in the conversation log with its
 * wait (arrival to apology), marked apologised, so `sort=wait` and the user filter find it.
 * A real bot on a real Redis (a prefix of this file's own), the AI faked at the HTTP boundary.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationEntry, ConversationSummary } from '../../src/index.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { REDIS_URL, deleteKeys, requireRedis, uniquePrefix } from '../integration/redis-helpers.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

const TOKEN = 'console-waits-admin-token-5b1d7e';
const MAX_WAIT_MS = 1500;

describe('the console: who waited longest, apologies included', () => {
  const prefix = uniquePrefix();
  let admin: Redis;
  let ai: FakeOpenAi;
  let bot: WebBot;
  let outage = false;

  beforeAll(async () => {
    admin = await requireRedis();
    ai = await startFakeOpenAi((call) => (outage ? { status: 500 } : { text: `re: ${lastUserText(call)}` }));
    const env = {
      REDIS_URL,
      REDIS_PREFIX: prefix,
      ADMIN_TOKEN: TOKEN,
      OPENAI_BASE_URL: ai.url,
      OPENAI_MODEL: 'gpt-4o-mini',
      RATE_LIMIT_USER_PER_MINUTE: '0',
      CACHE_TTL_SECONDS: '0',
      AI_ATTEMPTS: '1',
      AI_BREAKER_THRESHOLD: '1',
      AI_BREAKER_HALF_OPEN_MS: '600000',
      AI_MAX_WAIT_MS: String(MAX_WAIT_MS),
    };
    bot = await startWebBot(env);
  });
  afterAll(async () => {
    await bot?.close();
    await ai?.close();
    if (admin) {
      await deleteKeys(admin, prefix);
      admin.disconnect();
    }
  });

  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${bot.url}/console/api${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };

  it('lists a message that ended with the apology, with its wait, first in sort=wait and under its user', async () => {
    expect((await bot.post('fast', 'Is the shop open?')).status).toBe(202);
    await bot.waitFor('fast', (entries) => assistantReplies(entries).length === 1);

    outage = true;
    expect((await bot.post('opener', 'Where is my parcel?')).status).toBe(202); // opens the breaker
    expect((await bot.post('waiter', 'Can I pay by card?')).status).toBe(202);
    const apologised = (entries: { kind?: string }[]) => entries.some((e) => e.kind === 'apology');
    const transcript = await bot.waitFor('waiter', apologised, MAX_WAIT_MS + 8000);
    await bot.waitFor('opener', apologised, 8000);
    expect(assistantReplies(transcript).map((e) => e.kind)).toEqual(['apology']);

    const { conversations } = await get<{ conversations: ConversationSummary[] }>('/conversations?sort=wait');
    expect(conversations.map((c) => c.conversationId).slice(-1)).toEqual(['fast']);
    expect(conversations.map((c) => c.conversationId).sort()).toEqual(['fast', 'opener', 'waiter']);
    const waiter = conversations.find((c) => c.conversationId === 'waiter')!;
    expect(waiter.maxLatencyMs).toBeGreaterThanOrEqual(MAX_WAIT_MS);
    expect(waiter).toMatchObject({ apologised: 1, exchanges: 1, costUsd: 0, models: [], lastInput: 'Can I pay by card?' });

    const byUser = await get<{ conversations: ConversationSummary[] }>('/conversations?user=waiter');
    expect(byUser.conversations.map((c) => c.conversationId)).toEqual(['waiter']);

    // The transcript shows it as apologised: the apology, no model, no tokens, no cost, nothing to rate.
    const { entries } = await get<{ entries: ConversationEntry[] }>('/conversations/waiter');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ outcome: 'apologised', input: 'Can I pay by card?', output: transcript.at(-1)!.text, model: 'none', inputTokens: 0, outputTokens: 0, costUsd: 0 });
    expect(entries[0]!.latencyMs).toBeGreaterThanOrEqual(MAX_WAIT_MS);
    expect(entries[0]).not.toHaveProperty('id');
  }, 30_000);
});
