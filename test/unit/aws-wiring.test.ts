/**
 * createBot({ config }) with SQS_QUEUE_URL or DYNAMODB_TABLE_PREFIX set but without parley/aws's
 * backends: the core cannot build them (their SDKs are optional), so it says so once at build,
 * and sqsWorker / lambdaHandler name the line to add instead of asking for the variable already set.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { lambdaHandler, sqsWorker } from '../../aws/index.js';
import { createBot, loadConfig, MemoryStore, type Bot } from '../../src/index.js';
import { testEnv } from '../helpers/web-bot.js';

const QUEUE_URL = 'http://127.0.0.1:5601/123456789012/jobs.fifo';
const bots: Bot[] = [];
afterEach(async () => {
  for (const bot of bots.splice(0)) await bot.close();
});

function build(env: Record<string, string>, parts: { store?: MemoryStore } = {}) {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(String(JSON.parse(line).msg)) });
  const bot = createBot({ config: loadConfig({ ...testEnv, OPENAI_API_KEY: 'test-key', ...env }), logger, ...parts });
  bots.push(bot);
  return { bot, lines };
}

describe('AWS settings in the config of a bot built without parley/aws', () => {
  it('SQS_QUEUE_URL: one warning at build; sqsWorker and lambdaHandler name queue: sqsQueueFromConfig(config), not the variable', () => {
    const { bot, lines } = build({ SQS_QUEUE_URL: QUEUE_URL });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/SQS_QUEUE_URL is set, but this bot was built without the SQS queue.*queue: sqsQueueFromConfig\(config\)/);
    expect(() => sqsWorker(bot)).toThrow(/SQS_QUEUE_URL is set, but this bot was built without the SQS queue.*queue: sqsQueueFromConfig\(config\)/);
    expect(() => sqsWorker(bot)).not.toThrow(/or set SQS_QUEUE_URL/);
    lambdaHandler(bot);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/queues in memory.*SQS_QUEUE_URL is set, but this bot was built without the SQS queue.*queue: sqsQueueFromConfig\(config\)/);
    expect(lines[1]).not.toMatch(/Set SQS_QUEUE_URL/);
  });

  it('DYNAMODB_TABLE_PREFIX: one warning at build naming ...dynamoDbFromConfig(config); none once a store is given', () => {
    const { lines } = build({ DYNAMODB_TABLE_PREFIX: 'parley' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/DYNAMODB_TABLE_PREFIX is set, but this bot was built without the DynamoDB store.*\.\.\.dynamoDbFromConfig\(config\)/);
    expect(build({ DYNAMODB_TABLE_PREFIX: 'parley' }, { store: new MemoryStore() }).lines).toEqual([]);
  });

  it('neither set: no warning, and sqsWorker still says to set SQS_QUEUE_URL', () => {
    const { bot, lines } = build({});
    expect(lines).toEqual([]);
    expect(() => sqsWorker(bot)).toThrow(/Set SQS_QUEUE_URL/);
  });
});
