/**
 * The worker Lambda and what follows its answers unawaited: an answer that spends a budget raises
 * `budget_exceeded`, posted to ALERT_WEBHOOK_URL in the background. Lambda freezes the function
 * once the handler returns, so the handler waits for that post (its retries too), as far as the
 * function's remaining time allows; and for the traffic it counted, added to the shared minutes (the
 * console's figures, the dead-letter alert's window) before it returns, not at a later invocation.
 * On the moto server, with a fake Slack, AI and webhook.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { lambdaHandler, sqsQueueFromConfig, sqsWorker } from '../../aws/index.js';
import { createBot, loadConfig, MemoryStore } from '../../src/index.js';
import { MemoryTally } from '../../src/ops/tally.js';
import { startFakeCallback, type FakeCallback } from '../fakes/callback-server.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { httpApiEvent } from '../helpers/lambda-events.js';
import { useMoto } from '../helpers/moto.js';
import { postedTexts } from '../helpers/ops.js';
import { appMention, signSlack } from '../helpers/slack-events.js';
import { freshQueues, receive, sqsEvent } from '../helpers/sqs.js';
import { testEnv } from '../helpers/web-bot.js';

const moto = useMoto();
let slack: FakeSlack;
let ai: FakeOpenAi;
let webhook: FakeCallback;
let client: SQSClient;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [slack, ai, webhook] = await Promise.all([startFakeSlack(), startFakeOpenAi(), startFakeCallback()]);
  client = new SQSClient({ endpoint: moto().url });
});
afterAll(async () => {
  for (const close of closers) await close();
  await Promise.all([slack.close(), ai.close(), webhook.close()]);
});

/** An ingress and a worker on one SQS queue and store; one answer ($0.0000048) spends the day's budget. */
async function serverless(tally = new MemoryTally()) {
  const { queueUrl } = await freshQueues(client, 30);
  const env = {
    ...testEnv,
    OPENAI_BASE_URL: ai.url,
    OPENAI_API_KEY: 'x',
    OPENAI_MODEL: 'gpt-4o-mini',
    AI_BUDGET_USD_PER_DAY: '0.000004',
    ALERT_WEBHOOK_URL: webhook.url,
    CACHE_TTL_SECONDS: '0',
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_API_URL: slack.url,
    SQS_QUEUE_URL: queueUrl,
  };
  const store = new MemoryStore();
  const makeBot = () => {
    const config = loadConfig(env);
    const bot = createBot({ config, adapters: [slackAdapter(slackConfigFromEnv(env)!)], store, tally, queue: sqsQueueFromConfig(config, { client, peekWaitSeconds: 0 }) });
    closers.push(() => bot.close());
    return bot;
  };
  return { ingress: lambdaHandler(makeBot()), worker: sqsWorker(makeBot()), queueUrl };
}

async function mention(ingress: ReturnType<typeof lambdaHandler>, text: string): Promise<void> {
  const body = JSON.stringify(appMention({ text }));
  const result = await ingress(httpApiEvent({ method: 'POST', path: '/slack/events', headers: { 'Content-Type': 'application/json', ...signSlack('test-signing-secret', body) }, body }));
  expect(result.statusCode).toBe(200);
}

describe('the worker Lambda waits for the alerts its answers raised before it returns (Lambda freezes it then)', () => {
  it('a budget crossed: the webhook has the alert, after a failed first try, by the time the handler returns', async () => {
    const { ingress, worker, queueUrl } = await serverless();
    webhook.calls.length = 0;
    // The first post fails (503): the alert is delivered only by a retry, half a second or so later.
    webhook.script((_call, n) => (n === 0 ? { status: 503 } : undefined));
    await mention(ingress, 'spend the budget');
    const messages = await receive(client, queueUrl);
    expect(messages).toHaveLength(1);
    const answer = await worker(sqsEvent(messages), { getRemainingTimeInMillis: () => 150_000 });
    expect(answer).toEqual({ batchItemFailures: [] });
    // Checked as the handler returns: the function is frozen from here.
    expect(postedTexts(webhook)).toEqual([expect.stringMatching(/daily AI budget is spent \(100%\)/), expect.stringMatching(/daily AI budget is spent \(100%\)/)]);
  });

  it("the answer is in the shared minutes (the console's traffic) by the time the handler returns", async () => {
    const tally = new MemoryTally();
    const { ingress, worker, queueUrl } = await serverless(tally);
    webhook.script(() => undefined);
    await mention(ingress, 'count me');
    const messages = await receive(client, queueUrl);
    expect(messages).toHaveLength(1);
    const before = new Date();
    expect(await worker(sqsEvent(messages), { getRemainingTimeInMillis: () => 150_000 })).toEqual({ batchItemFailures: [] });
    // Checked as the handler returns: this minute's (or, across a minute's end, the last two minutes') counters.
    const minutes = new Set([before, new Date()].map((at) => `parley:ops:minute:${at.toISOString().slice(0, 16)}`));
    const answered = (await Promise.all([...minutes].map((key) => tally.read(key)))).reduce((sum, fields) => sum + (fields.answered ?? 0), 0);
    expect(answered).toBe(1);
  });

  it('returns before its timeout though the webhook keeps failing: the post is not waited for past the time left', async () => {
    const { ingress, worker, queueUrl } = await serverless();
    webhook.calls.length = 0;
    webhook.script(() => ({ status: 503 }));
    await mention(ingress, 'spend it again');
    const messages = await receive(client, queueUrl);
    expect(messages).toHaveLength(1);
    // Only seconds left (the wait keeps 3 s back): the handler answers while the post's eight tries are far from spent.
    const answer = await worker(sqsEvent(messages), { getRemainingTimeInMillis: () => 4000 });
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(webhook.calls.length).toBeGreaterThanOrEqual(1);
    expect(webhook.calls.length).toBeLessThan(8);
  });
});
