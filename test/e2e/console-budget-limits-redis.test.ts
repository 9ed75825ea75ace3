/**
 * A budget limit set in the console of one process is applied by another, on a real Redis: A (an
 * ingress, no worker: the process an operator's browser reaches) sets the limit, B (the only
 * worker) answers or posts the budget notice by it. B is waited for through its budget gauge,
 * which reads the same 5 s cache as its budget check. The override is kept without a TTL and
 * deleted going back to the environment's.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { REDIS_URL, deleteKeys, requireRedis, uniquePrefix } from '../integration/redis-helpers.js';
import { until } from '../helpers/until.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

const TOKEN = 'budget-limits-redis-token-41c9d2';
const NOTICE = 'The AI budget is spent for today.';

describe('a budget limit set in one process is applied by the others (Redis)', () => {
  const prefix = uniquePrefix();
  let admin: Redis;
  let ai: FakeOpenAi;
  let a: WebBot;
  let b: WebBot;

  beforeAll(async () => {
    admin = await requireRedis();
    ai = await startFakeOpenAi((call) => ({ text: `re: ${lastUserText(call)}` }));
    const env = {
      REDIS_URL,
      REDIS_PREFIX: prefix,
      ADMIN_TOKEN: TOKEN,
      OPENAI_BASE_URL: ai.url,
      OPENAI_MODEL: 'gpt-4o-mini',
      AI_BUDGET_NOTICE: NOTICE,
      RATE_LIMIT_USER_PER_MINUTE: '0',
      CACHE_TTL_SECONDS: '0',
    };
    a = await startWebBot(env, { worker: false });
    b = await startWebBot(env);
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

  const setOnA = async (usd: number | null | 'environment') => {
    const res = await fetch(`${a.url}/console/api/budgets/limit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ limit: 'dayUsd', usd }),
    });
    expect(res.status).toBe(200);
  };
  /** B's day limit as its budget gauge says (undefined: none), refreshed every 5 s from its cached limits. */
  const limitOnB = async () => {
    const text = await (await fetch(`${b.url}/metrics`)).text();
    const line = /^parley_ai_budget_limit_usd\{period="day"\} (\S+)$/m.exec(text);
    return line ? Number(line[1]) : undefined;
  };
  const say = async (conversation: string, text: string, n: number) => {
    await b.post(conversation, text);
    return assistantReplies(await b.waitFor(conversation, (e) => assistantReplies(e).length >= n, 15_000))[n - 1]!;
  };
  const key = () => `${prefix}:parley:budget:limit:dayUsd`;

  it('B posts the notice past a limit A set, answers again once A lifts it, and A going back to the environment deletes the key', async () => {
    expect(await say('shared', 'one', 1)).toMatchObject({ kind: 'answer', text: 're: one' });

    // $0.0000048 is spent: a limit of a millionth of a dollar is past.
    await setOnA(0.000001);
    expect(await admin.pttl(key())).toBe(-1); // configuration: kept until set back
    await until(async () => (await limitOnB()) === 0.000001, "A's limit applied by B", 20_000);
    expect(await say('shared', 'two', 2)).toMatchObject({ kind: 'notice', text: NOTICE });

    await setOnA(1);
    await until(async () => (await limitOnB()) === 1, "A's raised limit applied by B", 20_000);
    expect(await say('shared', 'three', 3)).toMatchObject({ kind: 'answer', text: 're: three' });
    expect(ai.calls.map((c) => c.body.messages.at(-1)?.content)).toEqual(['one', 'three']);

    await setOnA('environment');
    expect(await admin.exists(key())).toBe(0);
  }, 60_000);
});
