/**
 * A Redis that refuses writes for a while — full under `noeviction` (OOM), as the queue's Redis
 * must be configured — while a message is with the AI: the message waits for it, without spending
 * attempts, and is answered once Redis takes writes again; no apology, no dead letter. A bot with
 * its worker in this process on a redis-server of the test's own; the AI is faked over HTTP.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

const TOKEN = 'redis-full-admin-token-6c1d2e';
/** How long Redis refuses writes: longer than JOB_ATTEMPTS tries take at this JOB_BACKOFF_MS. */
const FULL_MS = 3000;

let redis: PrivateRedis;
let admin: Redis;
let ai: FakeOpenAi;
let web: WebBot;

beforeAll(async () => {
  redis = await startPrivateRedis(['--appendonly', 'no', '--maxmemory-policy', 'noeviction']);
  admin = new Redis(redis.url);
  ai = await startFakeOpenAi((call) => (lastUserText(call).startsWith('refused') ? { status: 400 } : { text: `echo: ${lastUserText(call)}`, delayMs: lastUserText(call).startsWith('slow') ? 1000 : 0 }));
  web = await startWebBot({ OPENAI_BASE_URL: ai.url, REDIS_URL: redis.url, REDIS_PREFIX: `full-${process.pid}`, JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '50', CACHE_TTL_SECONDS: '0', ADMIN_TOKEN: TOKEN });
  await web.bot.start();
}, 30_000);

afterAll(async () => {
  redis?.thaw();
  await admin?.config('SET', 'maxmemory', '0').catch(() => undefined);
  admin?.disconnect();
  await web?.close();
  await ai?.close();
  await redis?.stop();
}, 30_000);

describe('a Redis that refuses writes (OOM) while a message is answered', () => {
  it('the message waits for Redis and is answered once it takes writes again: no apology, no dead letter', async () => {
    await web.post('c-warm', 'warm-up');
    await web.waitFor('c-warm', (entries) => assistantReplies(entries).length === 1);
    expect((await web.post('c-full', 'slow question')).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 300)); // with the AI now
    await admin.config('SET', 'maxmemory', '1');
    expect(await admin.set('probe', '1').catch((error: Error) => error.message)).toMatch(/^OOM /);
    // Not ready meanwhile: the core cannot take a message (a PING alone would still answer).
    const full = await fetch(`${web.url}/readyz`);
    expect(full.status).toBe(503);
    expect(JSON.stringify(await full.json())).toMatch(/"store":"down: OOM /);
    await new Promise((resolve) => setTimeout(resolve, FULL_MS));
    await admin.config('SET', 'maxmemory', '0');
    expect((await fetch(`${web.url}/readyz`)).status).toBe(200);
    const entries = await web.waitFor('c-full', (all) => assistantReplies(all).length > 0, 20_000);
    expect(assistantReplies(entries).map((e) => e.text)).toEqual(['echo: slow question']);
    expect(await web.bot.deadLetters.list()).toEqual([]);
  }, 40_000);
});

describe('a console action Redis is sent but does not answer in time (a frozen Redis)', () => {
  it('answers 503 outcome_unknown, not "unreachable": the frozen Redis carries it out once it wakes', async () => {
    await web.post('c-refused', 'refused question');
    await until(async () => (await web.bot.deadLetters.list()).length === 1, 'the dead letter');
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    redis.freeze();
    const purge = await fetch(`${web.url}/console/api/dead-letters/purge`, { method: 'POST', headers, body: JSON.stringify({ confirm: 'purge' }) });
    redis.thaw();
    expect(purge.status).toBe(503);
    expect(((await purge.json()) as { error: { code: string } }).error.code).toBe('outcome_unknown');
    await until(async () => (await web.bot.deadLetters.list()).length === 0, 'the purge, carried out once Redis woke');
  }, 30_000);
});
