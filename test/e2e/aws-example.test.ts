/**
 * The serverless example (examples/aws) as it is deployed, on the moto server: its own bot
 * (lambdaBot) with the queue on SQS, the store on DynamoDB and the conversation log in the seed's
 * `ai_conversations` table, created by `setupAws` as `parley aws setup` would. A signed Slack
 * mention reaches the ingress handler as an HTTP API event, the worker handler gets the batch as
 * Lambda's SQS event source builds it, the reply reaches the fake Slack once, and the exchange is a
 * row of the seed's table.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaBot } from '../../examples/aws/bot.js';
import { lambdaHandler, setupAws, sqsWorker } from '../../aws/index.js';
import { loadConfig, type Bot } from '../../src/index.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { httpApiEvent } from '../helpers/lambda-events.js';
import { useMoto } from '../helpers/moto.js';
import { appMention, signSlack } from '../helpers/slack-events.js';
import { pollOnce } from '../helpers/sqs.js';
import { testEnv } from '../helpers/web-bot.js';

const moto = useMoto();
let slack: FakeSlack;
let ai: FakeOpenAi;
const bots: Bot[] = [];
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
  ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call).replace(/^<@\w+>\s*/, '')}` }));
});
afterAll(async () => {
  for (const bot of bots) await bot.close();
  for (const client of clients) client.destroy();
  await Promise.all([slack.close(), ai.close()]);
});

describe('the serverless example on the emulators', () => {
  it('acknowledges, queues on SQS, answers once through the worker, and fills ai_conversations', async () => {
    const env = {
      ...testEnv,
      OPENAI_BASE_URL: ai.url,
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: 'test-signing-secret',
      SLACK_API_URL: slack.url,
      SQS_QUEUE_URL: `${moto().url}/123456789012/parley-example.fifo`,
      DYNAMODB_TABLE_PREFIX: 'parley-example',
      CONVERSATION_LOG_TABLE: 'ai_conversations',
    };
    const steps = await setupAws(loadConfig(env));
    expect(steps.map((s) => `${s.kind}:${s.outcome}`).sort()).toEqual(['queue:created', 'table:created', 'table:created']);

    // Two functions, two bots: the ingress and the worker share only SQS and DynamoDB.
    const ingressBot = lambdaBot(env);
    const workerBot = lambdaBot(env);
    bots.push(ingressBot, workerBot);
    const ingress = lambdaHandler(ingressBot);
    const worker = sqsWorker(workerBot);

    const body = JSON.stringify(appMention({ text: 'what does the example do?' }));
    const event = httpApiEvent({ method: 'POST', path: '/slack/events', headers: { 'Content-Type': 'application/json', ...signSlack('test-signing-secret', body) }, body });
    expect(await ingress(event)).toMatchObject({ statusCode: 200 });
    // Slack's redelivery of the same event is deduplicated through the DynamoDB store.
    expect(await ingress(event)).toMatchObject({ statusCode: 200 });

    const sqs = new SQSClient({});
    clients.push(sqs);
    expect(await pollOnce(sqs, env.SQS_QUEUE_URL, worker)).toEqual({ records: 1, failures: [] });
    expect(await pollOnce(sqs, env.SQS_QUEUE_URL, worker)).toEqual({ records: 0, failures: [] });
    expect(slack.callsTo('chat.postMessage').map((c) => c.args.text)).toEqual(['echo: what does the example do?']);

    const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    clients.push(dynamo);
    const rows = (await dynamo.send(new ScanCommand({ TableName: 'ai_conversations' }))).Items ?? [];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ platform: 'slack', input: 'what does the example do?', output: 'echo: what does the example do?', model: 'gpt-4o-mini' });
    expect(rows[0]!.conversation_id).toEqual(expect.stringContaining('C0GENERAL'));
    expect(Date.parse(String(rows[0]!.timestamp))).not.toBeNaN();
    const stored = (await dynamo.send(new ScanCommand({ TableName: 'parley-example-store' }))).Items ?? [];
    expect(stored.some((item) => String(item.key).startsWith('parley:seen:slack.'))).toBe(true);
  }, 60_000);
});
