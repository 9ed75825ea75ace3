/**
 * The web chat's request limits on a real Redis: two processes (two bots' backends, each with its
 * own connection and its own WebLimits) share one budget per address and per visitor.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WebLimits } from '../../adapters/web/limits.js';
import type { HttpRequest } from '../../src/adapter.js';
import { createBackends, type Backends } from '../../src/backends.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../unit/helpers.js';
import { REDIS_URL, keysWithPrefix, uniquePrefix, useRedis } from './redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix);
const opened: Backends[] = [];

/** One process's web limits, as the bot builds them (REDIS_URL set, limiter names under "web-"). */
async function processLimits(env: Record<string, string>): Promise<WebLimits> {
  const config = loadConfig({ LOG_LEVEL: 'silent', REDIS_URL, REDIS_PREFIX: prefix, ...env });
  const backends = createBackends(config, silentLogger);
  opened.push(backends);
  await backends.connect();
  return new WebLimits({ config, limiter: (name, points, seconds) => backends.limiter(`web-${name}`, points, seconds) });
}

const request = (remoteAddress: string): HttpRequest => ({ method: 'GET', url: new URL('http://127.0.0.1/web/frame'), headers: {}, body: Buffer.alloc(0), remoteAddress });

afterAll(async () => {
  for (const backends of opened.splice(0)) await backends.close();
});

describe('WebLimits on Redis', () => {
  it('two processes share the per-address budget and the per-visitor budget', async () => {
    const env = { WEB_REQUESTS_PER_IP_PER_MINUTE: '4', WEB_SESSIONS_PER_IP_PER_MINUTE: '1' };
    const [a, b] = [await processLimits(env), await processLimits(env)];
    const answers = [];
    for (const limits of [a, b, a, b, a]) answers.push((await limits.checkRequest(request('203.0.113.7')))?.status);
    expect(answers).toEqual([undefined, undefined, undefined, undefined, 429]);
    const refused = await b.checkRequest(request('203.0.113.7'));
    expect(Number(refused?.headers?.['retry-after'])).toBeGreaterThan(50);
    // The visitor's budget is shared too, from any address.
    const visitor = [];
    for (const [i, limits] of [a, b, a, b, b].entries()) visitor.push((await limits.checkRequest(request(`203.0.113.${20 + i}`), { kind: 'visitor', visitor: 'visitor-x' }))?.status);
    expect(visitor).toEqual([undefined, undefined, undefined, undefined, 429]);
    // New sessions: one per address, whichever process is asked.
    expect(await a.checkNewSession(request('203.0.113.7'))).toBeUndefined();
    expect((await b.checkNewSession(request('203.0.113.7')))?.status).toBe(429);
    // Counted under this test's prefix only, and cleaned up after it.
    const keys = await keysWithPrefix(redis.admin(), prefix);
    expect(keys.some((key) => key.startsWith(`${prefix}:limit-web-requests-ip`))).toBe(true);
    expect(keys.some((key) => key.startsWith(`${prefix}:limit-web-requests-visitor`))).toBe(true);
    expect(keys.some((key) => key.startsWith(`${prefix}:limit-web-sessions-ip`))).toBe(true);
  });
});
