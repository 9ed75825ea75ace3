/**
 * A message larger than the SQS queue takes (its MaximumMessageSize: 256 KiB on queues made before
 * August 2025, or where infrastructure code sets it). SQS refuses such a SendMessage every time, so
 * ingress used to answer 503 to Slack's every retry and the message was lost, its sender told
 * nothing. Now it is queued cut: the worker asks the sender for a shorter message, once, never asks
 * the AI about the start of it, and dead-letters it as too_large (not replayable). Moto, fake Slack and AI.
 */
import { SendMessageCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { lambdaHandler, sqsQueueFromConfig, sqsWorker } from '../../aws/index.js';
import { createBot, loadConfig, MemoryStore } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { httpApiEvent, type SignedRequest } from '../helpers/lambda-events.js';
import { useMoto } from '../helpers/moto.js';
import { appMention, signSlack } from '../helpers/slack-events.js';
import { freshQueues, pollOnce } from '../helpers/sqs.js';
import { testEnv } from '../helpers/web-bot.js';

const moto = useMoto();
let slack: FakeSlack;
let ai: FakeOpenAi;
let client: SQSClient;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
  ai = await startFakeOpenAi(() => ({ text: 'an answer' }));
  client = new SQSClient({ endpoint: moto().url });
});
afterAll(async () => {
  for (const close of closers) await close();
  await Promise.all([slack.close(), ai.close()]);
});

describe('a message larger than the SQS queue takes (256 KiB)', () => {
  it('is acknowledged, and its sender asked once for a shorter one; the AI is not asked, and it is dead-lettered as too_large', async () => {
    const { queueUrl, deadLetterQueueUrl } = await freshQueues(client, 1);
    for (const url of [queueUrl, deadLetterQueueUrl]) await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { MaximumMessageSize: '262144' } }));
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const env = { ...testEnv, OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url, SQS_QUEUE_URL: queueUrl };
    const store = new MemoryStore();
    const makeBot = () => {
      const config = loadConfig(env);
      const bot = createBot({ config, logger, adapters: [slackAdapter(slackConfigFromEnv(env)!)], store, queue: sqsQueueFromConfig(config, { client, peekWaitSeconds: 0 }) });
      closers.push(() => bot.close());
      return bot;
    };
    const ingress = lambdaHandler(makeBot());
    const workerBot = makeBot();
    const worker = sqsWorker(workerBot);

    // A long paste: 300,000 characters, its job well past 256 KiB (Slack's body holds the text twice, in blocks too).
    const paste = 'lorem ipsum '.repeat(25_000);
    const body = JSON.stringify(appMention({ text: paste }));
    const request: SignedRequest = { method: 'POST', path: '/slack/events', headers: { 'Content-Type': 'application/json', ...signSlack('test-signing-secret', body) }, body };
    expect((await ingress(httpApiEvent(request))).statusCode).toBe(200);

    // The job, then the apology it queues (a durable notice), each run by the worker.
    for (let i = 0; i < 3 && slack.callsTo('chat.postMessage').length === 0; i++) expect((await pollOnce(client, queueUrl, worker)).failures).toEqual([]);
    const posts = slack.callsTo('chat.postMessage');
    expect(posts.map((post) => post.args.text)).toEqual(['Sorry — that message is longer than I can read at once. Could you send a shorter one?']);
    expect(ai.calls).toHaveLength(0);

    const letters = await workerBot.queue.deadLetters();
    expect(letters.map((letter) => [letter.reason, letter.truncated])).toEqual([['too_large', true]]);
    await expect(workerBot.queue.replay(letters[0]!.id)).rejects.toThrow(/cut to fit its queue \(larger than its MaximumMessageSize\)/);
    // Slack's retry of the same event is a duplicate: nothing more is posted.
    expect((await ingress(httpApiEvent(request))).statusCode).toBe(200);
    expect((await pollOnce(client, queueUrl, worker)).records).toBe(0);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    // The logs say what happened, without the message itself.
    expect(lines.some((line) => line.includes('larger than the SQS queue takes'))).toBe(true);
    expect(lines.some((line) => line.includes('"reason":"too_large"'))).toBe(true);
    expect(lines.filter((line) => line.includes('lorem ipsum'))).toEqual([]);
  }, 30_000);

  it('one SQS redrove itself (its receives ran out) is listed as cut too, and never replayed', async () => {
    const { queueUrl, deadLetterQueueUrl } = await freshQueues(client, 1);
    const queue = sqsQueueFromConfig(loadConfig({ ...testEnv, SQS_QUEUE_URL: queueUrl }), { client, peekWaitSeconds: 0 })!;
    // The body as the ingress queued it: the job's long strings cut, `cut` its size as a job.
    const body = JSON.stringify({ id: 'slack.Ev0CUT', group: 'slack:T1:C1', delivery: 'slack.Ev0CUT', data: { type: 'message', message: { text: 'the start of it' } }, cut: 300_000 });
    await client.send(new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, MessageBody: body, MessageGroupId: 'slack_T1_C1', MessageDeduplicationId: 'slack.Ev0CUT' }));
    const letters = await queue.deadLetters();
    expect(letters.map((letter) => [letter.id, letter.reason, letter.truncated])).toEqual([['slack.Ev0CUT', 'redriven', true]]);
    await expect(queue.replay('slack.Ev0CUT')).rejects.toThrow(/cut to fit/);
  });
});
