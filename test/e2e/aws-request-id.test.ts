/**
 * On AWS (moto): the ingress Lambda's webhook request id crosses SQS with its job, and the worker
 * Lambda's "message answered" line carries it, so one message is followed across the two functions.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { lambdaHandler, sqsQueueFromConfig, sqsWorker } from '../../aws/index.js';
import { createBot, loadConfig, MemoryStore, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { httpApiEvent } from '../helpers/lambda-events.js';
import { useMoto } from '../helpers/moto.js';
import { appMention, signSlack } from '../helpers/slack-events.js';
import { freshQueues, pollOnce } from '../helpers/sqs.js';
import { testEnv } from '../helpers/web-bot.js';

type Line = { msg: string; requestId?: string };

const moto = useMoto();
let slack: FakeSlack;
let ai: FakeOpenAi;
const bots: Bot[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
  ai = await startFakeOpenAi();
});
afterAll(async () => {
  for (const bot of bots) await bot.close();
  await Promise.all([slack?.close(), ai?.close()]);
});

describe('the request id across SQS', () => {
  it("the worker Lambda's \"message answered\" line carries the ingress Lambda's X-Request-Id", async () => {
    const client = new SQSClient({ endpoint: moto().url });
    const { queueUrl } = await freshQueues(client, 1);
    const env = { ...testEnv, OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url, SQS_QUEUE_URL: queueUrl };
    const store = new MemoryStore();
    const lines: Line[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    const makeBot = () => {
      const config = loadConfig(env);
      const bot = createBot({ config, adapters: [slackAdapter(slackConfigFromEnv(env)!)], store, logger, queue: sqsQueueFromConfig(config, { client, peekWaitSeconds: 0 }) });
      bots.push(bot);
      return bot;
    };
    const ingress = lambdaHandler(makeBot());
    const worker = sqsWorker(makeBot());
    const body = JSON.stringify(appMention({ text: 'across SQS' }));
    const headers = { 'Content-Type': 'application/json', 'User-Agent': 'Slackbot 1.0', 'X-Request-Id': 'apigw-5e1d', ...signSlack('test-signing-secret', body) };
    expect(await ingress(httpApiEvent({ method: 'POST', path: '/slack/events', headers, body }))).toMatchObject({ statusCode: 200 });
    expect(await pollOnce(client, queueUrl, worker)).toEqual({ records: 1, failures: [] });
    expect(lines.filter((line) => line.msg === 'message answered')).toEqual([expect.objectContaining({ requestId: 'apigw-5e1d' })]);
  });
});
