/**
 * Signing out of the console on Redis: bot A and bot B share a Redis under one prefix (two processes
 * behind one load balancer). Signed out at A, the session is refused at B and B's live overview of it
 * ends; the sign-out is kept under a hash of the session, never the cookie, for what is left of its
 * 12 hours. With the store down, a sign-out still clears the cookie and says that other copies stay
 * valid; reads go on (the console shows the outage), actions wait (503).
 */
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLive, readUntil, signIn as signInWith, signOut } from '../helpers/console-session.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';
import { REDIS_URL, deleteKeys, requireRedis, uniquePrefix } from './redis-helpers.js';

const TOKEN = 'console-sign-out-redis-token-9c3f';
const signIn = (url: string) => signInWith(url, TOKEN);
const env = (url: string, prefix: string) => ({ REDIS_URL: url, REDIS_PREFIX: prefix, ADMIN_TOKEN: TOKEN, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });

describe('signing out of the console, two bots sharing a Redis', () => {
  const prefix = uniquePrefix();
  let admin: Redis;
  let a: WebBot;
  let b: WebBot;

  beforeAll(async () => {
    admin = await requireRedis();
    a = await startWebBot(env(REDIS_URL, prefix));
    b = await startWebBot(env(REDIS_URL, prefix), { worker: false });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    if (admin) {
      await deleteKeys(admin, prefix);
      admin.disconnect();
    }
  });

  it('refuses at B a session signed out at A, and ends the live overview B serves with it', async () => {
    const cookie = await signIn(a.url);
    expect((await fetch(`${b.url}/console/api/overview`, { headers: { cookie } })).status).toBe(200);
    const abort = new AbortController();
    try {
      const live = await openLive(b.url, cookie, abort.signal);
      expect((await signOut(a.url, cookie)).status).toBe(303);

      expect((await fetch(`${b.url}/console/api/overview`, { headers: { cookie } })).status).toBe(401);
      expect(await (await fetch(`${b.url}/console`, { headers: { cookie } })).text()).toMatch(/action="\/console\/login"/);
      expect((await readUntil(live, () => false)).ended).toBe(true);
      expect((await fetch(`${a.url}/console/api/overview`, { headers: { cookie } })).status).toBe(401);
    } finally {
      abort.abort();
    }

    const keys = await admin.keys(`${prefix}:parley:console:signed-out:*`);
    expect(keys).toHaveLength(1);
    const value = cookie.slice('parley_console='.length);
    expect(keys[0]).not.toContain(value.split('.')[1]);
    expect(await admin.get(keys[0]!)).not.toContain(value);
    // For what is left of the session's 12 hours.
    const ttl = await admin.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(11 * 3_600_000);
    expect(ttl).toBeLessThanOrEqual(12 * 3_600_000);
  });
});

describe('signing out of the console while the store (Redis) is down', () => {
  const prefix = uniquePrefix();
  const lines: string[] = [];
  let redis: PrivateRedis;
  let a: WebBot;
  let b: WebBot;

  beforeAll(async () => {
    redis = await startPrivateRedis(['--appendonly', 'no']);
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _, done) => (lines.push(chunk.toString()), done()) }));
    a = await startWebBot(env(redis.url, prefix), { logger });
    b = await startWebBot(env(redis.url, prefix), { worker: false });
  }, 30_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  }, 30_000);

  it('clears the cookie and says other copies stay valid; this process refuses it; reads elsewhere go on, actions wait', async () => {
    const cookie = await signIn(a.url);
    expect((await fetch(`${b.url}/console/api/overview`, { headers: { cookie } })).status).toBe(200);
    await redis.stop();

    const out = await signOut(a.url, cookie);
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^parley_console=; .*Max-Age=0/);
    const said = lines.find((line) => line.includes('console sign-out not recorded in the store'));
    expect(said).toMatch(/other copies of the session stay valid in other processes until it expires/);
    expect(said).not.toContain(cookie.slice('parley_console='.length));
    expect((await fetch(`${a.url}/console/api/overview`, { headers: { cookie } })).status).toBe(401);

    // B cannot know: the page and its reads show the outage rather than sign the operator out…
    expect(await (await fetch(`${b.url}/console`, { headers: { cookie } })).text()).not.toMatch(/action="\/console\/login"/);
    const read = await fetch(`${b.url}/console/api/dead-letters`, { headers: { cookie } });
    expect(read.status).toBe(503);
    expect(await read.json()).toMatchObject({ error: { code: 'store_unreachable' } });
    // …and an action is refused until the session can be checked.
    const action = await fetch(`${b.url}/console/api/budgets/limit`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ limit: 'dayUsd', usd: 5 }) });
    expect(action.status).toBe(503);
    expect(await action.json()).toMatchObject({ error: { code: 'store_unreachable', message: expect.stringMatching(/not signed out/) } });
  });
});
