/**
 * The queue on SQS with the store in memory (SQS_QUEUE_URL without DYNAMODB_TABLE_PREFIX or
 * REDIS_URL): every Lambda instance and worker process keeps its own delivery claims, reply markers
 * and attempt counts, so a reply can be posted twice. lambdaHandler, sqsWorker and a polling
 * worker say so at start, and `parley check` warns, naming DYNAMODB_TABLE_PREFIX (or REDIS_URL).
 * Nothing is reached: the endpoints are a closed port of this file's.
 */
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { check } from '../../cli/check.js';
import { DynamoStore, lambdaHandler, sqsQueueFromConfig, sqsWorker } from '../../aws/index.js';
import { ConfigError, createBot, loadConfig, type Bot, type Store } from '../../src/index.js';
import { testEnv } from '../helpers/web-bot.js';

const CLOSED = 'http://127.0.0.1:12201';
const QUEUE_URL = `${CLOSED}/123456789012/jobs.fifo`;
const AWS_ENV = { AWS_ENDPOINT_URL_SQS: CLOSED, AWS_ENDPOINT_URL_DYNAMODB: CLOSED, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
const saved = Object.fromEntries(Object.keys(AWS_ENV).map((name) => [name, process.env[name]]));
beforeAll(() => void Object.assign(process.env, AWS_ENV));
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
const bots: Bot[] = [];
afterEach(async () => {
  for (const bot of bots.splice(0)) await bot.close();
});

const UNSHARED = /queue is on SQS \(SQS_QUEUE_URL\) but the store is in memory.*a reply can be posted twice\. Set DYNAMODB_TABLE_PREFIX .* or REDIS_URL/;

function build(options: { store?: Store; worker?: boolean } = {}) {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(String(JSON.parse(line).msg)) });
  const config = loadConfig({ ...testEnv, OPENAI_API_KEY: 'test-key', SQS_QUEUE_URL: QUEUE_URL });
  const bot = createBot({ config, logger, queue: sqsQueueFromConfig(config, { waitTimeSeconds: 1 }), ...options });
  bots.push(bot);
  return { bot, lines: () => lines.filter((line) => !/SQS receive failed/.test(line)) };
}

describe('the queue on SQS, the store in memory', () => {
  it('lambdaHandler and sqsWorker each say so once, at start', () => {
    const { bot, lines } = build();
    lambdaHandler(bot);
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatch(/^lambdaHandler: /);
    expect(lines()[0]).toMatch(UNSHARED);
    sqsWorker(bot);
    expect(lines()).toHaveLength(2);
    expect(lines()[1]).toMatch(/^sqsWorker: /);
    expect(lines()[1]).toMatch(UNSHARED);
  });

  it('sqsWorker refuses an event that is not SQS\'s (a console test event, an HTTP route) with a ConfigError naming the wiring, not a TypeError', async () => {
    const { bot } = build({ store: new DynamoStore({ tableName: 'shared-store' }) });
    const handler = sqsWorker(bot);
    for (const event of [{}, { key1: 'value1' }, { version: '2.0', rawPath: '/slack/events' }, null]) {
      const refused = await handler(event as never).then(() => undefined, (error: unknown) => error);
      expect(refused).toBeInstanceOf(ConfigError);
      expect(String(refused)).toMatch(/sqsWorker: this event is not an SQS event \(it has no Records\).*sqs event source.*lambdaHandler/);
    }
  });

  it('a polling worker (parley worker, parley serve) says so when it starts', async () => {
    const { bot, lines } = build();
    await bot.start();
    expect(lines().filter((line) => UNSHARED.test(line))).toHaveLength(1);
  });

  it('with a shared store (DynamoDB): not a word', async () => {
    const { bot, lines } = build({ store: new DynamoStore({ tableName: 'shared-store' }) });
    lambdaHandler(bot);
    sqsWorker(bot);
    expect(lines()).toEqual([]);
  });
});

describe('parley check', () => {
  async function checked(env: Record<string, string>): Promise<string> {
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
    try {
      await check(loadConfig({ ...testEnv, ...env }), {});
      return out.join('\n');
    } finally {
      log.mockRestore();
    }
  }

  it('warns about SQS_QUEUE_URL without a shared store, naming DYNAMODB_TABLE_PREFIX and REDIS_URL', async () => {
    const out = await checked({ SQS_QUEUE_URL: QUEUE_URL });
    expect(out).toMatch(/^warn {2}store and queue: the queue on SQS, the store in memory: .*a reply can be posted twice\. Set DYNAMODB_TABLE_PREFIX \(or REDIS_URL\) to share them$/m);
  }, 20_000);

  it('with DYNAMODB_TABLE_PREFIX too: the store and queue line is ok', async () => {
    const out = await checked({ SQS_QUEUE_URL: QUEUE_URL, DYNAMODB_TABLE_PREFIX: 'parley' });
    expect(out).toMatch(/^ok {4}store and queue: the queue on SQS, the store on DynamoDB$/m);
  }, 20_000);
});
