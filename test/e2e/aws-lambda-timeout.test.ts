/**
 * A worker Lambda whose timeout stops it while a job still runs: Lambda deletes none of that batch,
 * and SQS would keep its messages hidden for the rest of the queue's visibility timeout (300 s
 * here, 15 minutes as `parley aws setup` makes it). Just before the timeout the worker gives them
 * back, so the next invocation retries them within seconds; the reply markers keep the user from
 * a second answer. The timeout is a fake Lambda context's getRemainingTimeInMillis; the function
 * is "stopped" by nothing but that deadline (its run posts nothing past it).
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { lambdaHandler, sqsQueueFromConfig, sqsWorker } from '../../aws/index.js';
import { createBot, loadConfig, MemoryStore, type Bot } from '../../src/index.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { restApiEvent } from '../helpers/lambda-events.js';
import { useMoto } from '../helpers/moto.js';
import { appMention, signSlack } from '../helpers/slack-events.js';
import { freshQueues, pollOnce, receive, sqsEvent } from '../helpers/sqs.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

const moto = useMoto();
let slack: FakeSlack;
let ai: FakeOpenAi;
let client: SQSClient;
const bots: Bot[] = [];
/** The AI's first answer to each "stuck" message waits for this: its run is still going at the function's timeout. */
let unstick: () => void = () => undefined;

beforeAll(async () => {
  slack = await startFakeSlack();
  const stuck = new Set<string>();
  ai = await startFakeOpenAi((call) => {
    const text = lastUserText(call).replace(/^<@\w+>\s*/, '');
    if (text.includes('stuck') && !stuck.has(text) && stuck.add(text)) return { text: `echo: ${text}`, hold: new Promise<void>((resolve) => (unstick = resolve)) };
    return { text: `echo: ${text}` };
  });
  client = new SQSClient({ endpoint: moto().url });
});
afterAll(async () => {
  unstick();
  for (const bot of bots) await bot.close();
  await Promise.all([slack.close(), ai.close()]);
});

/** The queue's visibility timeout: far longer than any wait below, so "visible again" can only mean "given back". */
const VISIBILITY_SECONDS = 300;

async function serverless() {
  const { queueUrl } = await freshQueues(client, VISIBILITY_SECONDS);
  // The AI's own deadlines are far off: the stuck call ends only when the test says so.
  const env = { ...testEnv, OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url, SQS_QUEUE_URL: queueUrl, AI_ATTEMPTS: '1', AI_TIMEOUT_MS: '120000', AI_DEADLINE_MS: '120000' };
  const store = new MemoryStore();
  const makeBot = () => {
    const config = loadConfig(env);
    const bot = createBot({ config, adapters: [slackAdapter(slackConfigFromEnv(env)!)], store, queue: sqsQueueFromConfig(config, { client, peekWaitSeconds: 0 }) });
    bots.push(bot);
    return bot;
  };
  const ingress = lambdaHandler(makeBot());
  const send = async (text: string, thread?: string) => {
    const body = JSON.stringify(appMention({ text, ...(thread ? { threadTs: thread } : {}), ...(text.includes('other') ? { channel: 'C0OTHER' } : {}) }));
    await ingress(restApiEvent({ method: 'POST', path: '/slack/events', headers: { 'Content-Type': 'application/json', ...signSlack('test-signing-secret', body) }, body }));
  };
  // Two instances of the worker function, as Lambda runs the retry wherever it likes. Started now (an empty
  // batch): a cold start inside the cut-off run would spend its short timeout before any message runs.
  const cutOff = sqsWorker(makeBot());
  const next = sqsWorker(makeBot());
  await Promise.all([cutOff, next].map((worker) => worker(sqsEvent([]), plentyOfTime)));
  return { queueUrl, send, cutOff, next };
}

/** A Lambda context whose timeout is `ms` from now. */
const timeoutIn = (ms: number) => {
  const stopsAt = Date.now() + ms;
  return { getRemainingTimeInMillis: () => Math.max(0, stopsAt - Date.now()) };
};
/** Messages visible in the queue now (SQS's ApproximateNumberOfMessages; moto counts exactly). */
const visibleCount = async (queueUrl: string) => Number((await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes?.ApproximateNumberOfMessages);
const plentyOfTime = { getRemainingTimeInMillis: () => 900_000 };
const replies = (text: string) => slack.callsTo('chat.postMessage').filter((c) => String(c.args.text) === `echo: ${text}`);
const asked = (text: string) => ai.calls.filter((call) => lastUserText(call).endsWith(text)).length;

describe("a worker Lambda stopped by its timeout while a job runs (queue visibility timeout 300 s)", () => {
  it('gives the message back: visible again within seconds, answered by the next invocation, once', async () => {
    const { queueUrl, send, cutOff, next } = await serverless();
    await send('stuck one');
    const batch = await receive(client, queueUrl);
    expect(batch).toHaveLength(1);
    // The function's run: still waiting for the AI when its timeout comes (Lambda then deletes nothing).
    const run = cutOff(sqsEvent(batch), timeoutIn(2_500));

    await until(async () => (await visibleCount(queueUrl)) === 1, "the message visible again, before the queue's visibility timeout", 60_000);
    expect(await pollOnce(client, queueUrl, (event) => next(event, plentyOfTime))).toEqual({ records: 1, failures: [] });
    expect(replies('stuck one')).toHaveLength(1);

    // The cut-off run, going on past its deadline (on Lambda it is stopped by then), posts nothing more.
    unstick();
    await run;
    expect(replies('stuck one')).toHaveLength(1);
    expect(await receive(client, queueUrl)).toEqual([]);
  }, 90_000);

  it("FIFO: the conversation's waiting message and another conversation's answered one come back too, and nothing is answered twice", async () => {
    const { queueUrl, send, cutOff, next } = await serverless();
    const thread = '1700000000.000200';
    await send('stuck two', thread);
    await send('waiting behind it', thread);
    await send('other answered in time');
    const batch = await receive(client, queueUrl);
    expect(batch).toHaveLength(3);
    // The other conversation is answered at once; the stuck one's conversation waits; then the timeout, far
    // enough off for the other's answer on a busy machine (once it passes, nothing more of the batch is posted).
    const run = cutOff(sqsEvent(batch), timeoutIn(8_000));
    await until(() => replies('other answered in time').length > 0, 'the other conversation answered in time');

    // A hidden message holds back its whole FIFO group: all three must come back for the stuck conversation to go on.
    await until(async () => (await visibleCount(queueUrl)) === 3, "the batch's three messages visible again, before the queue's visibility timeout", 60_000);
    // The next invocations answer what is left. (moto hands out a group's returning messages out of order, which SQS
    // does not: the order is not asserted here; see aws-serverless.test.ts for it.)
    await until(async () => {
      await pollOnce(client, queueUrl, (event) => next(event, plentyOfTime));
      return replies('stuck two').length > 0 && replies('waiting behind it').length > 0;
    }, 'the conversation answered by the next invocations');
    expect(replies('stuck two')).toHaveLength(1);
    expect(replies('waiting behind it')).toHaveLength(1);
    // Answered in time, it is not answered (nor the AI asked) again on its return.
    expect(await receive(client, queueUrl)).toEqual([]);
    expect(replies('other answered in time')).toHaveLength(1);
    expect(asked('other answered in time')).toBe(1);

    unstick();
    await run;
    expect(replies('stuck two')).toHaveLength(1);
  }, 90_000);
});
