/**
 * The "Redis keeps nothing on disk" warning is about the queue's Redis: a bot given a queue of its
 * own (SQS, as `parley serve` builds with SQS_QUEUE_URL) keeps only counters, limits and the cache
 * on REDIS_URL, so the warning's "a restart loses the queued messages, dedupe claims, …" is untrue there.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createBot, loadConfig, MemoryQueue, type JobData } from '../../src/index.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
import { uniquePrefix } from './redis-helpers.js';

describe('the persistence warning with a queue not on Redis', () => {
  let redis: PrivateRedis | undefined;
  afterEach(async () => {
    await redis?.stop();
    redis = undefined;
  });

  async function warningsOf(ownQueue: boolean): Promise<string[]> {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(String(JSON.parse(line).msg)) });
    const config = loadConfig({ OPENAI_API_KEY: 'sk-test', REDIS_URL: redis!.url, REDIS_PREFIX: uniquePrefix() });
    const queue = ownQueue ? { queue: new MemoryQueue<JobData>({ attempts: 1, backoffMs: 10, maxBackoffMs: 10 }) } : {};
    const bot = createBot({ config, adapters: [], logger, env: {}, ...queue });
    try {
      await bot.start();
      // The eviction warning comes first, then the persistence one (if any) on the same connection.
      await until(() => warnings.some((w) => w.includes('maxmemory-policy')), 'the eviction warning', 10_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      return warnings.filter((w) => w.includes('keeps nothing on disk'));
    } finally {
      await bot.close({ delayMs: 0 });
    }
  }

  it('warns with the queue on Redis, not with a queue of its own', async () => {
    redis = await startPrivateRedis(['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru']);
    expect(await warningsOf(false)).toHaveLength(1);
    expect(await warningsOf(true)).toEqual([]);
  }, 30_000);
});
