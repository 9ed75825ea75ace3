/**
 * REDIS_URL may name a Sentinel-managed primary: a real redis-server and a real Sentinel on
 * loopback, and the whole pipeline (store, BullMQ queue, limits) running through them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';
import { freePort, startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';

describe('Redis through Sentinel', () => {
  let primary: PrivateRedis;
  let sentinel: ChildProcess;
  let sentinelPort: number;
  let web: WebBot | undefined;

  beforeAll(async () => {
    primary = await startPrivateRedis();
    sentinelPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'parley-sentinel-'));
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(conf, [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor parleyprimary 127.0.0.1 ${primary.port} 1`, ''].join('\n'));
    sentinel = spawn('redis-server', [conf, '--sentinel']);
    let out = '';
    sentinel.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!/\+monitor master parleyprimary/.test(out)) {
      if (sentinel.exitCode !== null || Date.now() > deadline) throw new Error(`redis sentinel did not start:\n${out}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  afterAll(async () => {
    await web?.close();
    sentinel?.kill('SIGTERM');
    await primary?.stop();
  });

  it('answers a message with store and queue on the primary that Sentinel names', async () => {
    web = await startWebBot({ REDIS_URL: `redis+sentinel://127.0.0.1:${sentinelPort}/parleyprimary` });
    const deadline = Date.now() + 10_000;
    while ((await fetch(`${web.url}/readyz`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('never ready through Sentinel');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await web.post('sentinel', 'hello through sentinel');
    const entries = await web.waitFor('sentinel', (e) => assistantReplies(e).length === 1);
    expect(entries.at(-1)!.text).toContain('hello through sentinel');
    // The queue's keys really are on the primary.
    const { Redis } = await import('ioredis');
    const direct = new Redis(primary.url);
    try {
      expect((await direct.keys('parley:messages:*')).length).toBeGreaterThan(0);
    } finally {
      direct.disconnect();
    }
  });
});
