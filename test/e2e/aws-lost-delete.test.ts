/**
 * A worker Lambda that answered a message whose delete was lost (the function timed out after
 * posting, or the event source's delete failed): SQS hands the message out again. The rerun finds
 * the reply's "sent" marker and asks the AI nothing: the answer is paid for once, posted once.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { lambdaHandler, sqsQueueFromConfig, sqsWorker } from '../../aws/index.js';
import { createBot, loadConfig, MemoryStore, type Bot } from '../../src/index.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { restApiEvent } from '../helpers/lambda-events.js';
import { useMoto } from '../helpers/moto.js';
import { appMention, signSlack } from '../helpers/slack-events.js';
import { freshQueues, receive, sqsEvent } from '../helpers/sqs.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

const moto = useMoto();
let slack: FakeSlack;
let ai: FakeOpenAi;
let client: SQSClient;
const bots: Bot[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
  ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call).replace(/^<@\w+>\s*/, '')}` }));
  client = new SQSClient({ endpoint: moto().url });
});
afterAll(async () => {
  for (const bot of bots) await bot.close();
  await Promise.all([slack.close(), ai.close()]);
});

describe('a worker Lambda whose answered message comes back (its delete lost)', () => {
  it('does not ask the AI again: one AI call, one reply', async () => {
    const { queueUrl } = await freshQueues(client, 1);
    const env = { ...testEnv, OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url, SQS_QUEUE_URL: queueUrl, AI_ATTEMPTS: '1' };
    const store = new MemoryStore();
    const makeBot = () => {
      const config = loadConfig(env);
      const bot = createBot({ config, adapters: [slackAdapter(slackConfigFromEnv(env)!)], store, queue: sqsQueueFromConfig(config, { client, peekWaitSeconds: 0 }) });
      bots.push(bot);
      return bot;
    };
    const ingress = lambdaHandler(makeBot());
    const worker = sqsWorker(makeBot());
    const body = JSON.stringify(appMention({ text: 'answer me once' }));
    await ingress(restApiEvent({ method: 'POST', path: '/slack/events', headers: { 'Content-Type': 'application/json', ...signSlack('test-signing-secret', body) }, body }));
    const asked = () => ai.calls.filter((call) => lastUserText(call).includes('answer me once')).length;
    const replies = () => slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).includes('echo: answer me once'));

    // Answered, but the delete never happens (the function timed out after posting).
    const first = await receive(client, queueUrl);
    expect(first).toHaveLength(1);
    expect((await worker(sqsEvent(first))).batchItemFailures).toEqual([]);
    expect(replies()).toHaveLength(1);
    expect(asked()).toBe(1);

    // Back after its visibility timeout (1 s): run again, deleted this time.
    let again: Awaited<ReturnType<typeof receive>> = [];
    await until(async () => (again = await receive(client, queueUrl)).length > 0, 'the message received again');
    expect(again[0]!.Attributes?.ApproximateReceiveCount).toBe('2');
    expect((await worker(sqsEvent(again))).batchItemFailures).toEqual([]);
    expect(asked()).toBe(1);
    expect(replies()).toHaveLength(1);
  }, 30_000);
});
