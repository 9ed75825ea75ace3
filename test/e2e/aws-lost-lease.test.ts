/**
 * Two polling workers (`parley worker` on SQS) sharing the store on DynamoDB (moto). The first
 * cannot renew its message's visibility (a proxy refuses its ChangeMessageVisibility, or never answers it), so the
 * message comes back and the second worker takes it while the first still waits for the AI. Both
 * get their answer at the same moment (a slow model; two runs of one question finish together):
 * and Slack slow to post: the first, whose hold on the message ran out, posts nothing and says so;
 * the user gets one reply.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createStoreTable, DynamoStore, lambdaHandler, sqsQueueFromConfig, storeTableName } from '../../aws/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { restApiEvent } from '../helpers/lambda-events.js';
import { useMoto } from '../helpers/moto.js';
import { appMention, signSlack } from '../helpers/slack-events.js';
import { freshQueues } from '../helpers/sqs.js';
import { startThrottlingProxy, type ThrottlingProxy } from '../helpers/throttling-proxy.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

const moto = useMoto();
const tableName = storeTableName('parley-lost-lease');
let slack: FakeSlack;
let ai: FakeOpenAi;
let client: SQSClient;
let proxy: ThrottlingProxy;
let unanswering: ThrottlingProxy;
let answersHeld: Promise<void>;
let releaseAnswers: () => void;
const bots: Bot[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
  // The model answers only when the test says: both runs of the question get their answer together.
  ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call).replace(/^<@\w+>\s*/, '')}`, hold: answersHeld }));
  client = new SQSClient({ endpoint: moto().url });
  const dynamo = new DynamoDBClient({});
  await createStoreTable(dynamo, tableName);
  dynamo.destroy();
  // SQS's 500 for every visibility change of the first worker's: its renewals all fail.
  const failing = { status: 500, body: JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'We encountered an internal error. Please try again.' }) };
  proxy = await startThrottlingProxy(moto().url, { throttles: (target) => target === 'AmazonSQS.ChangeMessageVisibility', answer: failing });
  // SQS out of reach for them instead: its visibility changes are never answered.
  unanswering = await startThrottlingProxy(moto().url, { throttles: (target) => target === 'AmazonSQS.ChangeMessageVisibility', answerAfterMs: Infinity });
});
afterAll(async () => {
  releaseAnswers?.();
  for (const bot of bots) await bot.close();
  await Promise.all([slack?.close(), ai?.close(), proxy?.close(), unanswering?.close()]);
  client?.destroy();
});

/** Two workers answer one question, the first unable to renew its hold on the message; returns what the user saw and the log. */
async function answerWithHoldLost(question: string, settings: Record<string, string> = {}, renewals = proxy) {
  answersHeld = new Promise<void>((resolve) => (releaseAnswers = resolve));
  slack.reset();
  const { queueUrl } = await freshQueues(client, 2);
  const env = { ...testEnv, OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url, SQS_QUEUE_URL: queueUrl, AI_ATTEMPTS: '1', AI_DEADLINE_MS: '60000', AI_TIMEOUT_MS: '60000', ...settings };
  const lines: string[] = [];
  const makeBot = (sqs: SQSClient, worker: boolean) => {
    const config = loadConfig(env);
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const queue = sqsQueueFromConfig(config, { client: sqs, visibilityTimeoutSeconds: 2, waitTimeSeconds: 1, peekWaitSeconds: 0 });
    const store = new DynamoStore({ tableName, namespace: `${question}:` });
    const bot = createBot({ config, adapters: [slackAdapter(slackConfigFromEnv(env)!)], store, queue, logger, worker });
    bots.push(bot);
    return bot;
  };
  const ingress = makeBot(client, false);
  const body = JSON.stringify(appMention({ text: question }));
  await lambdaHandler(ingress)(restApiEvent({ method: 'POST', path: '/slack/events', headers: { 'Content-Type': 'application/json', ...signSlack('test-signing-secret', body) }, body }));
  const asked = () => ai.calls.filter((call) => lastUserText(call).includes(question)).length;

  // The first worker takes the message; every renewal of its visibility (2 s) fails.
  const sqsThroughProxy = new SQSClient({ endpoint: renewals.url, useQueueUrlAsEndpoint: false, maxAttempts: 1 });
  await makeBot(sqsThroughProxy, true).start();
  await until(() => asked() === 1, 'the first worker asks the AI', 15_000);
  // The message comes back; the second worker takes it and asks too.
  await makeBot(client, true).start();
  await until(() => asked() === 2, 'the second worker asks the AI', 15_000);
  expect(renewals.refused).toBeGreaterThan(0);
  // Slack is slow to post (1.5 s): neither post has landed when the other worker looks for it.
  slack.on('chat.postMessage', () => ({ delayMs: 1500 }));
  releaseAnswers();

  await until(() => lines.some((line) => line.includes('"message answered"')), 'a worker answers', 15_000);
  const queued = async () => Object.values(await ingress.queue.counts()).reduce((sum, n) => sum + n, 0);
  await until(async () => (await queued()) === 0, 'the message deleted, no dead letter', 15_000);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  sqsThroughProxy.destroy();
  // What the user sees: messages posted, and streamed ones not taken back, that hold the answer.
  const deleted = new Set(slack.callsTo('chat.delete').map((call) => String(call.args.ts)));
  const posted = slack.callsTo('chat.postMessage').map((call) => String(call.args.text));
  const streamed = [...slack.streams].filter(([ts]) => !deleted.has(ts)).map(([, stream]) => stream.text);
  return { shown: [...posted, ...streamed].filter((text) => text.includes(`echo: ${question}`)), log: lines.join('\n') };
}

describe('a polling worker whose visibility renewals fail past the visibility timeout', () => {
  it('posts nothing once another worker may have the message: one reply, and a log line saying why', async () => {
    const { shown, log } = await answerWithHoldLost('answer me once');
    expect(shown).toHaveLength(1);
    expect(log).toContain("this worker's hold on the SQS message ran out");
  }, 60_000);

  it('renewals never answered (SQS out of reach, not erring): one reply', async () => {
    const { shown, log } = await answerWithHoldLost('unreachable, answer me once', {}, unanswering);
    expect(shown).toHaveLength(1);
    expect(log).toContain("this worker's hold on the SQS message ran out");
  }, 60_000);

  it('streamed (SLACK_STREAMING=on): one reply', async () => {
    const { shown, log } = await answerWithHoldLost('stream me once', { SLACK_STREAMING: 'on' });
    expect(shown).toHaveLength(1);
    expect(log).toContain("this worker's hold on the SQS message ran out");
  }, 60_000);
});
