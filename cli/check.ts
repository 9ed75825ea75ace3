import OpenAI from 'openai';
import { Redis } from 'ioredis';
import type { Config } from '../src/index.js';
import { adaptersFromConfig } from './adapters.js';
import { checkDynamoDb, type CheckLine as Line } from './check-aws.js';

/** `parley check`: validate the configuration and reach what it points at. Exit 1 if anything fails. */
export async function check(config: Config): Promise<number> {
  const lines: Line[] = [{ ok: true, what: 'configuration', detail: 'every variable is valid' }];
  const inMemory = config.dynamodb.tablePrefix ? 'the queue in memory, the store on DynamoDB' : 'in memory (set REDIS_URL to share them between processes)';
  lines.push(config.redisUrl ? await checkRedis(config.redisUrl, redisShares(config)) : { ok: true, what: 'store and queue', detail: inMemory });
  lines.push(...(await checkDynamoDb(config)));
  lines.push(await checkAi(config));
  const adapters = adaptersFromConfig(config).map((a) => a.platform);
  lines.push({ ok: adapters.length > 0 ? true : 'warn', what: 'adapters', detail: adapters.length > 0 ? adapters.join(', ') : 'none on: set a platform\'s variables or WEB_CHAT=true' });
  for (const line of lines) {
    const mark = line.ok === true ? 'ok  ' : line.ok === 'warn' ? 'warn' : 'FAIL';
    console.log(`${mark}  ${line.what}: ${line.detail}`);
  }
  return lines.some((line) => line.ok === false) ? 1 : 0;
}

async function checkAi(config: Config): Promise<Line> {
  const { apiKey, baseURL, model } = config.ai;
  if (!apiKey && !baseURL) return { ok: 'warn', what: 'AI provider', detail: 'none configured: replies quote the message back (set OPENAI_API_KEY or OPENAI_BASE_URL)' };
  const client = new OpenAI({ apiKey: apiKey ?? 'not-needed', baseURL, maxRetries: 0, timeout: 10_000 });
  const where = baseURL ?? 'api.openai.com';
  try {
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    const known = models.includes(model) ? `model ${model} is available` : `reached; model ${model} is not in its list of ${models.length}`;
    return { ok: models.includes(model) || models.length === 0 ? true : 'warn', what: 'AI provider', detail: `${where}: ${known}` };
  } catch (error) {
    return { ok: false, what: 'AI provider', detail: `${where}: ${(error as Error).message}` };
  }
}

/** What Redis holds: everything, less what DynamoDB (the store) and SQS (the queue) take over. */
function redisShares(config: Config): string {
  const parts = [config.dynamodb.tablePrefix ? undefined : 'store', config.sqsQueueUrl ? undefined : 'queue', 'limits', 'cache'].filter(Boolean);
  return `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

async function checkRedis(url: string, shares: string): Promise<Line> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    const policy = await redis.config('GET', 'maxmemory-policy').then((r) => (r as string[])[1], () => undefined);
    if (policy && policy !== 'noeviction') return { ok: 'warn', what: 'Redis', detail: `reached, but maxmemory-policy is ${policy}: set noeviction so queued jobs are never evicted` };
    return { ok: true, what: 'Redis', detail: `reached; ${shares} are shared` };
  } catch (error) {
    return { ok: false, what: 'Redis', detail: `cannot reach it: ${(error as Error).message}` };
  } finally {
    redis.disconnect();
  }
}
