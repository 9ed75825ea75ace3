/**
 * The operator console across processes on Redis: bot A (ingress and worker) answers, bot B (no
 * worker, the process an operator's browser happens to reach) shows A's traffic, spend,
 * conversations and dead letters. Two bots sharing a real Redis under a prefix of this file's own;
 * its keys are deleted afterwards.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterView, Overview } from '../../src/console/api.js';
import type { AiClient, ConversationEntry, ConversationSummary } from '../../src/index.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { REDIS_URL, deleteKeys, requireRedis, uniquePrefix } from '../integration/redis-helpers.js';
import { until } from '../helpers/until.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

const TOKEN = 'console-redis-admin-token-3e9f0c';

describe('the console across processes on Redis', () => {
  const prefix = uniquePrefix();
  let admin: Redis;
  let ai: FakeOpenAi;
  let a: WebBot;
  let b: WebBot;
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
      JOB_ATTEMPTS: '1',
      AI_ATTEMPTS: '1',
      AI_BREAKER_THRESHOLD: '1000',
    };
    a = await startWebBot(env);
    b = await startWebBot(env, { worker: false });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await ai?.close();
    if (admin) {
      await deleteKeys(admin, prefix);
      admin.disconnect();
    }
  });

  /** B's console API, signed in at A: a session is good on every process with the same token. */
  async function consoleOfB() {
    const signedIn = await fetch(`${a.url}/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN }).toString(),
      redirect: 'manual',
    });
    expect(signedIn.status).toBe(303);
    const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;
    return {
      async get<T>(path: string): Promise<T> {
        const res = await fetch(`${b.url}/console/api${path}`, { headers: { cookie } });
        expect(res.status, path).toBe(200);
        return (await res.json()) as T;
      },
      post: (path: string, body: unknown = {}) => fetch(`${b.url}/console/api${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    };
  }

  it("shows A's messages, time to reply and spend in B's overview, and A's conversations in B's search", async () => {
    const panel = await consoleOfB();
    for (const [conversation, text] of [
      ['redis-1', 'Is the shop open on Sunday?'],
      ['redis-2', 'Can I return shoes after 30 days?'],
    ] as const) {
      expect((await a.post(conversation, text)).status).toBe(202);
      await a.waitFor(conversation, (entries) => assistantReplies(entries).length === 1);
    }
    const total = (o: Overview, field: 'received' | 'answered') => o.minutes.reduce((sum, m) => sum + m[field], 0);
    // A adds its counts to Redis every 2 s; B reads them from there.
    const overview = await until(
      async () => {
        const now = await panel.get<Overview>('/overview');
        return total(now, 'received') === 2 && total(now, 'answered') === 2 && now.spend.today.totalUsd > 0 && now;
      },
      "A's two messages in B's overview",
      10_000,
    );
    expect(overview.replyMs.count).toBe(2);
    expect(overview.replyMs.p50).not.toBeNull();
    expect(overview.replyMs.p95).not.toBeNull();
    expect(Object.keys(overview.spend.today.byModel)).toEqual(['gpt-4o-mini']);
    expect(overview.spend.today.byTenant['-']).toBeCloseTo(overview.spend.today.totalUsd, 12);
    expect(overview.cache).toEqual({ hits: 0, misses: 0, hitRate: null });
    expect(overview.queue).toEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });

    const found = await panel.get<{ conversations: ConversationSummary[]; searchable: boolean }>('/conversations?text=sunday&platform=web');
    expect(found.searchable).toBe(true);
    expect(found.conversations).toEqual([expect.objectContaining({ conversationId: 'redis-1', platform: 'web', lastInput: 'Is the shop open on Sunday?', lastOutput: 're: Is the shop open on Sunday?' })]);
    const all = await panel.get<{ conversations: ConversationSummary[] }>('/conversations?sort=wait');
    expect(all.conversations.map((c) => c.conversationId).sort()).toEqual(['redis-1', 'redis-2']);
    expect(all.conversations[0]!.maxLatencyMs).toBeGreaterThanOrEqual(all.conversations[1]!.maxLatencyMs);

    const { entries } = await panel.get<{ entries: ConversationEntry[] }>('/conversations/redis-2');
    expect(entries).toEqual([
      expect.objectContaining({ conversationId: 'redis-2', platform: 'web', input: 'Can I return shoes after 30 days?', output: 're: Can I return shoes after 30 days?', model: 'gpt-4o-mini' }),
    ]);
    // What the log says the answers cost is what the spend counters hold.
    const costs = await Promise.all(['redis-1', 'redis-2'].map(async (id) => (await panel.get<{ entries: ConversationEntry[] }>(`/conversations/${id}`)).entries[0]!.costUsd));
    expect(overview.spend.today.totalUsd).toBeCloseTo(costs[0]! + costs[1]!, 12);
  });

  it("shows on B the breaker of another process (a worker's open breaker), not B's own closed one, and how many processes are in that state", async () => {
    const panel = await consoleOfB();
    // A third process whose AI circuit is open: its provider is failing, B (no AI calls) never sees it.
    const failing: AiClient = { circuit: 'open', reply: () => Promise.reject(new Error('the provider is down')) };
    const c = await startWebBot({ REDIS_URL, REDIS_PREFIX: prefix, ADMIN_TOKEN: TOKEN, OPENAI_BASE_URL: ai.url }, { worker: false, ai: failing });
    try {
      const overview = await until(async () => {
        const o = await panel.get<Overview>('/overview');
        return o.breaker === 'open' ? o : undefined;
      }, "C's open breaker on B's overview", 15_000);
      expect(overview.breakers.open).toBe(1);
      expect(overview.breakers.closed).toBeGreaterThanOrEqual(2); // A and B
    } finally {
      await c.close();
    }
  });

  it("lists A's dead letters on B, and B's replay is answered by A's worker", async () => {
    const panel = await consoleOfB();
    outage = true;
    expect((await a.post('redis-dead', 'Where is order 4411?')).status).toBe(202);
    const letter = await until(async () => (await panel.get<{ deadLetters: DeadLetterView[] }>('/dead-letters')).deadLetters[0], "A's dead letter on B");
    expect(letter).toMatchObject({ platform: 'web', conversation: 'redis-dead', text: 'Where is order 4411?', reason: 'attempts_exhausted', attempts: 1 });
    await until(async () => (await panel.get<Overview>('/overview')).minutes.some((m) => m.deadLettered === 1 && m.apologised === 1), "the dead letter and the apology in B's overview");

    outage = false;
    const replay = await panel.post(`/dead-letters/${encodeURIComponent(letter.id)}/replay`);
    expect(await replay.json()).toEqual({ replayed: true });
    await a.waitFor('redis-dead', (entries) => assistantReplies(entries).some((r) => r.text === 're: Where is order 4411?'));
    expect((await panel.get<{ deadLetters: DeadLetterView[] }>('/dead-letters')).deadLetters).toEqual([]);
  });

  it("B drops one of A's dead letters, and no other: gone on A too; 404 once gone", async () => {
    const panel = await consoleOfB();
    outage = true;
    for (const conversation of ['redis-drop-1', 'redis-drop-2']) expect((await a.post(conversation, `Lost in ${conversation}`)).status).toBe(202);
    const letters = await until(async () => {
      const listed = (await panel.get<{ deadLetters: DeadLetterView[] }>('/dead-letters')).deadLetters;
      return listed.length === 2 && listed;
    }, "A's two dead letters on B");
    outage = false;
    const dropped = letters.find((l) => l.conversation === 'redis-drop-1')!;
    const kept = letters.find((l) => l.conversation === 'redis-drop-2')!;
    const path = `/dead-letters/${encodeURIComponent(dropped.id)}/drop`;
    expect((await panel.post(path)).status).toBe(400);
    const drop = await panel.post(path, { confirm: 'drop' });
    expect(drop.status).toBe(200);
    expect(await drop.json()).toEqual({ dropped: true });
    expect((await panel.get<{ deadLetters: DeadLetterView[] }>('/dead-letters')).deadLetters.map((l) => l.id)).toEqual([kept.id]);
    expect((await a.bot.deadLetters.list()).map((l) => l.id)).toEqual([kept.id]);
    expect((await a.bot.queue.counts()).dead).toBe(1);

    const again = await panel.post(path, { confirm: 'drop' });
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await panel.post('/dead-letters/no-such-letter/drop', { confirm: 'drop' })).status).toBe(404);
    expect(await (await panel.post(`/dead-letters/${encodeURIComponent(kept.id)}/drop`, { confirm: 'drop' })).json()).toEqual({ dropped: true });
    expect(await a.bot.deadLetters.list()).toEqual([]);
  });
});
