/**
 * The ingress Lambda (examples/aws) when an AWS endpoint accepts and never answers. Slack waits
 * 3 s: the ingress must release the delivery's claim and answer 503 well within that, so Slack's
 * retry is queued instead of being dropped as a duplicate of a message that was never taken.
 * And when SQS fails while DynamoDB throttles the release: said in an error line, and the claim
 * owed is given back by the retry reaching this instance (or in the background), so it is taken once.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaBot } from '../../examples/aws/bot.js';
import { DynamoStore, lambdaHandler, setupAws, sqsQueueFromConfig, storeTableName } from '../../aws/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { startBlackHole, type BlackHole } from '../helpers/black-hole.js';
import { httpApiEvent } from '../helpers/lambda-events.js';
import { useMoto } from '../helpers/moto.js';
import { appMention, signSlack } from '../helpers/slack-events.js';
import { receive } from '../helpers/sqs.js';
import { startThrottlingProxy } from '../helpers/throttling-proxy.js';
import { testEnv } from '../helpers/web-bot.js';

const moto = useMoto();
let hole: BlackHole;
const bots: Bot[] = [];
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  hole = await startBlackHole();
});
afterAll(async () => {
  for (const bot of bots) await bot.close();
  for (const client of clients) client.destroy();
  await hole.close();
});

const SECRET = 'test-signing-secret';

function envFor(prefix: string, queueUrl: string): Record<string, string> {
  return { ...testEnv, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: hole.url, AWS_LAMBDA_FUNCTION_NAME: 'ingress', SQS_QUEUE_URL: queueUrl, DYNAMODB_TABLE_PREFIX: prefix };
}

function mention(text: string, retryNum?: number) {
  const body = JSON.stringify(appMention({ text }));
  return (retry = retryNum) =>
    httpApiEvent({ method: 'POST', path: '/slack/events', headers: { 'Content-Type': 'application/json', ...signSlack(SECRET, body), ...(retry ? { 'X-Slack-Retry-Num': String(retry), 'X-Slack-Retry-Reason': 'http_timeout' } : {}) }, body });
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await run();
  return { result, ms: Date.now() - started };
}

describe('the ingress Lambda with an AWS endpoint that never answers', () => {
  it('SQS silent: answers 503 within Slack\'s 3 s and releases the claim, so the retry is queued', async () => {
    const prefix = 'deadline-sqs';
    const working = envFor(prefix, `${moto().url}/123456789012/deadline-sqs.fifo`);
    await setupAws(loadConfig(working));
    const event = mention('is anyone there?');

    const stuck = lambdaBot(envFor(prefix, `${hole.url}/123456789012/q.fifo`));
    bots.push(stuck);
    const first = await timed(() => lambdaHandler(stuck)(event()));
    expect(first.result).toMatchObject({ statusCode: 503 });
    expect(first.ms).toBeLessThan(2500);

    const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    clients.push(dynamo);
    const claims = (await dynamo.send(new ScanCommand({ TableName: storeTableName(prefix) }))).Items ?? [];
    expect(claims.filter((item) => String(item.key).startsWith('parley:seen:'))).toEqual([]);

    // Slack's retry reaches a fresh instance whose SQS answers: taken, not dropped as a duplicate.
    const fresh = lambdaBot(working);
    bots.push(fresh);
    expect(await lambdaHandler(fresh)(event(1))).toMatchObject({ statusCode: 200 });
    const sqs = new SQSClient({});
    clients.push(sqs);
    const queued = await receive(sqs, working.SQS_QUEUE_URL!);
    expect(queued).toHaveLength(1);
    expect(queued[0]!.Body).toContain('is anyone there?');
  }, 30_000);

  it('DynamoDB silent: answers 503 within Slack\'s 3 s', async () => {
    const env = envFor('deadline-dynamo', `${moto().url}/123456789012/deadline-dynamo.fifo`);
    await setupAws(loadConfig(env));
    const config = loadConfig(env);
    // The store's client points at the black hole (the SDK reads AWS_ENDPOINT_URL_DYNAMODB process-wide).
    const silent = new DynamoDBClient({ endpoint: hole.url });
    clients.push(silent);
    const bot = createBot({ config, adapters: [slackAdapter(slackConfigFromEnv(env)!)], queue: sqsQueueFromConfig(config), store: new DynamoStore({ tableName: storeTableName('deadline-dynamo'), client: silent }) });
    bots.push(bot);
    const answered = await timed(() => lambdaHandler(bot)(mention('hello?')()));
    expect(answered.result).toMatchObject({ statusCode: 503 });
    expect(answered.ms).toBeLessThan(2500);
  }, 30_000);

  it("SQS failing and the claim's release throttled: 503 and an error line naming the message; Slack's retry to this instance is taken once the store answers, and only once", async () => {
    const env = envFor('release-throttled', `${moto().url}/123456789012/release-throttled.fifo`);
    await setupAws(loadConfig(env));
    const config = loadConfig(env);
    let failing = true;
    const sqsDown = await startThrottlingProxy(moto().url, { throttles: (target) => failing && target === 'AmazonSQS.SendMessage', answer: { status: 500, body: JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'internal' }) } });
    const throttled = await startThrottlingProxy(moto().url, { throttles: (target) => failing && target === 'DynamoDB_20120810.DeleteItem' });
    const dynamo = new DynamoDBClient({ endpoint: throttled.url });
    const sqs = new SQSClient({ endpoint: sqsDown.url, useQueueUrlAsEndpoint: false });
    clients.push(dynamo, sqs, { destroy: () => void sqsDown.close() }, { destroy: () => void throttled.close() });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const bot = createBot({ config, logger, adapters: [slackAdapter(slackConfigFromEnv(env)!)], queue: sqsQueueFromConfig(config, { client: sqs }), store: new DynamoStore({ tableName: storeTableName('release-throttled'), client: dynamo }) });
    bots.push(bot);
    const body = JSON.stringify(appMention({ text: 'lost?', eventId: 'Ev-release-throttled' }));
    const delivery = (retry?: number) =>
      httpApiEvent({ method: 'POST', path: '/slack/events', headers: { 'Content-Type': 'application/json', ...signSlack(SECRET, body), ...(retry ? { 'X-Slack-Retry-Num': String(retry), 'X-Slack-Retry-Reason': 'http_error' } : {}) }, body });
    const answered = await lambdaHandler(bot)(delivery());
    expect(answered).toMatchObject({ statusCode: 503 });
    expect(throttled.refused).toBeGreaterThan(0);
    const said = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => String(line.msg).includes('claim could not be given back'));
    expect(said).toMatchObject({ level: 50, platform: 'slack', message: expect.stringContaining('Ev-release-throttled') });

    // Slack's retries reach the same warm instance once SQS and DynamoDB answer: one is queued, the next is a duplicate.
    // (A retry that comes while the background give-back is still in the SDK's throttling backoff, on a
    // loaded machine, is answered 503 again rather than wait past Slack's 3 s: Slack retries it.)
    failing = false;
    let retry = 1;
    while ((await lambdaHandler(bot)(delivery(retry))).statusCode !== 200) expect(++retry).toBeLessThanOrEqual(3);
    expect(await lambdaHandler(bot)(delivery(retry + 1))).toMatchObject({ statusCode: 200 });
    const reader = new SQSClient({});
    clients.push(reader);
    const queued = await receive(reader, env.SQS_QUEUE_URL!);
    expect(queued).toHaveLength(1);
    expect(queued[0]!.Body).toContain('lost?');
  }, 30_000);
});
