/**
 * A long message (a pasted document, 460 KB) on the serverless pattern with the store and the
 * conversation log on DynamoDB (moto), whose items hold 400 KB at most. It fits Slack's body and
 * SQS's 1 MiB, and was answered; but its history turn and its log row were refused by DynamoDB on
 * every attempt, so the answered message was retried and dead-lettered, and the seed's table never
 * got its row. Now it is done in one run: one reply, the row written (cut to fit, marked so), and
 * the conversation's next message is answered with its history.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { dynamoDbFromConfig, lambdaHandler, setupAws, sqsQueueFromConfig, sqsWorker } from '../../aws/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
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
  ai = await startFakeOpenAi((call) => ({ text: `read ${lastUserText(call).length} characters` }));
});
afterAll(async () => {
  for (const bot of bots) await bot.close();
  for (const client of clients) client.destroy();
  await Promise.all([slack.close(), ai.close()]);
});

describe('a 460 KB message with the store and the log on DynamoDB', () => {
  it('is answered in one run, once, and logged (cut to fit); the next message of its thread is answered too', async () => {
    const env = {
      ...testEnv,
      OPENAI_BASE_URL: ai.url,
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: 'test-signing-secret',
      SLACK_API_URL: slack.url,
      SQS_QUEUE_URL: `${moto().url}/123456789012/long-message.fifo`,
      DYNAMODB_TABLE_PREFIX: 'long-message',
      CONVERSATION_LOG_TABLE: 'long_message_log',
      JOB_ATTEMPTS: '3',
      JOB_BACKOFF_MS: '1',
    };
    await setupAws(loadConfig(env));
    const makeBot = () => {
      const config = loadConfig(env);
      const bot = createBot({ config, adapters: [slackAdapter(slackConfigFromEnv(env)!)], queue: sqsQueueFromConfig(config), ...dynamoDbFromConfig(config) });
      bots.push(bot);
      return bot;
    };
    const ingress = lambdaHandler(makeBot());
    const worker = sqsWorker(makeBot());
    const sqs = new SQSClient({});
    clients.push(sqs);
    const mention = async (text: string, threadTs?: string) => {
      const body = JSON.stringify(appMention({ text, ...(threadTs ? { threadTs } : {}) }));
      expect((await ingress(httpApiEvent({ method: 'POST', path: '/slack/events', headers: { 'Content-Type': 'application/json', ...signSlack('test-signing-secret', body) }, body }))).statusCode).toBe(200);
      return JSON.parse(body) as { event: { ts: string } };
    };

    const first = await mention('paste '.repeat(76_000));
    expect(await pollOnce(sqs, env.SQS_QUEUE_URL, worker)).toEqual({ records: 1, failures: [] });
    expect(await pollOnce(sqs, env.SQS_QUEUE_URL, worker)).toEqual({ records: 0, failures: [] });
    expect(slack.callsTo('chat.postMessage').map((call) => call.args.text)).toEqual([expect.stringMatching(/^read \d+ characters$/)]);

    const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    clients.push(dynamo);
    const rows = (await dynamo.send(new ScanCommand({ TableName: env.CONVERSATION_LOG_TABLE }))).Items ?? [];
    expect(rows).toHaveLength(1);
    // The log keeps the message's first 4,000 characters (log-text.ts), so the row is far below DynamoDB's 400 KB.
    expect(rows[0]).toMatchObject({ output: expect.stringMatching(/^read \d+ characters$/), input: expect.stringMatching(/^(paste )+.* … \[\d+ more characters not kept in the log\]$/) });
    expect(rows[0]!.truncated).toBeUndefined();

    // The thread goes on: its history (on DynamoDB) takes the next turn.
    await mention('and a short question', first.event.ts);
    expect(await pollOnce(sqs, env.SQS_QUEUE_URL, worker)).toEqual({ records: 1, failures: [] });
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
  }, 60_000);
});
