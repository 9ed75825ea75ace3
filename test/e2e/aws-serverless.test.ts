/**
 * The serverless path end to end, on the moto server: an ingress Lambda (API Gateway REST, HTTP
 * API and Function URL events) acknowledges a signed Slack event and queues it on SQS; the worker
 * Lambda, invoked with the batch as Lambda's SQS event source builds it, answers through a fake
 * Slack with a fake AI. Two bots share one store, as two functions share one DynamoDB table.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { webChat } from '../../adapters/web/index.js';
import { lambdaHandler, sqsQueueFromConfig, sqsWorker } from '../../aws/index.js';
import { createBot, loadConfig, MemoryStore, type Bot } from '../../src/index.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { functionUrlEvent, httpApiEvent, restApiEvent, type SignedRequest } from '../helpers/lambda-events.js';
import { useMoto } from '../helpers/moto.js';
import { appMention, CHANNEL_ID, signSlack } from '../helpers/slack-events.js';
import { freshQueues, pollOnce, receive } from '../helpers/sqs.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

const moto = useMoto();
let slack: FakeSlack;
let ai: FakeOpenAi;
let client: SQSClient;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  slack = await startFakeSlack();
  // "fail once" fails its first call; "poison" fails every call; the rest are echoed.
  let failedOnce = false;
  ai = await startFakeOpenAi((call) => {
    const text = lastUserText(call);
    if (text.includes('poison') || (text.includes('fail once') && !failedOnce && (failedOnce = true))) return { status: 500 };
    if (text.includes('slowly')) return { text: `echo: ${text.replace(/^<@\w+>\s*/, '')}`, delayMs: 600 };
    return { text: `echo: ${text.replace(/^<@\w+>\s*/, '')}` };
  });
  client = new SQSClient({ endpoint: moto().url });
});
afterAll(async () => {
  for (const close of closers) await close();
  await Promise.all([slack.close(), ai.close()]);
});

async function serverless() {
  const { queueUrl } = await freshQueues(client, 1);
  const env = { ...testEnv, OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url, SQS_QUEUE_URL: queueUrl, JOB_ATTEMPTS: '2', JOB_BACKOFF_MS: '1', AI_ATTEMPTS: '1' };
  const store = new MemoryStore();
  const makeBot = () => {
    const config = loadConfig(env);
    const bot = createBot({ config, adapters: [slackAdapter(slackConfigFromEnv(env)!)], store, queue: sqsQueueFromConfig(config, { client, peekWaitSeconds: 0 }) });
    closers.push(() => bot.close());
    return bot;
  };
  const workerBot = makeBot();
  return { ingress: lambdaHandler(makeBot()), worker: sqsWorker(workerBot), workerBot, queueUrl };
}

function slackRequest(text: string, threadTs?: string): SignedRequest {
  const body = JSON.stringify(appMention({ text, ...(threadTs ? { threadTs } : {}) }));
  return { method: 'POST', path: '/slack/events', headers: { 'Content-Type': 'application/json', 'User-Agent': 'Slackbot 1.0', ...signSlack('test-signing-secret', body) }, body };
}

/** GET an event-stream route through the HTTP Lambda: answered (200, text/event-stream) within `ms`, or the test fails. */
async function eventStreamWithin(bot: Bot, path: string, token: string, ms: number) {
  const answer = lambdaHandler(bot)(httpApiEvent({ method: 'GET', path, headers: { authorization: `Bearer ${token}` }, body: '' }));
  const result = await Promise.race([answer, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms))]);
  expect(result, `answered within ${ms} ms`).toBeDefined();
  expect(result!.statusCode).toBe(200);
  expect(result!.headers?.['content-type']).toMatch(/^text\/event-stream/);
  return result!;
}

const repliesTo = (text: string) => slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).includes(text));

describe('serverless on AWS: ingress Lambda → SQS → worker Lambda (moto)', () => {
  it.each([
    ['API Gateway REST (1.0)', restApiEvent],
    ['HTTP API (2.0)', (r: SignedRequest) => httpApiEvent(r)],
    ['HTTP API (2.0), base64 body', (r: SignedRequest) => httpApiEvent(r, { base64: true })],
    ['Function URL', (r: SignedRequest) => functionUrlEvent(r, { base64: true })],
  ])('%s: acknowledged, queued, answered in the thread', async (name, toEvent) => {
    const { ingress, worker, queueUrl } = await serverless();
    const result = await ingress(toEvent(slackRequest(`hello from ${name}`)));
    expect(result).toMatchObject({ statusCode: 200, isBase64Encoded: false });
    expect(await pollOnce(client, queueUrl, worker)).toEqual({ records: 1, failures: [] });
    const [reply] = repliesTo(`echo: hello from ${name}`);
    expect(reply?.args).toMatchObject({ channel: CHANNEL_ID, text: `echo: hello from ${name}` });
  });

  it('warns when the HTTP function would queue in its own memory (frozen after the response), and not on SQS or in direct mode', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const bot = (env: Record<string, string>, queue?: ReturnType<typeof sqsQueueFromConfig>) => {
      const created = createBot({ config: loadConfig({ ...testEnv, ...env }), logger, ...(queue ? { queue } : {}) });
      closers.push(() => created.close());
      return created;
    };
    lambdaHandler(bot({}));
    expect(lines.filter((l) => l.includes('queues in memory'))).toHaveLength(1);
    const { queueUrl } = await freshQueues(client, 1);
    lambdaHandler(bot({ SQS_QUEUE_URL: queueUrl }, sqsQueueFromConfig(loadConfig({ SQS_QUEUE_URL: queueUrl }), { client })));
    lambdaHandler(bot({ MODE: 'direct' }));
    expect(lines.filter((l) => l.includes('queues in memory'))).toHaveLength(1);
  });

  it('warns that Slack in direct mode is answered inside the request on Lambda, so a slow answer makes Slack send the event again', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const env = { ...testEnv, MODE: 'direct', SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url };
    const created = createBot({ config: loadConfig(env), logger, adapters: [slackAdapter(slackConfigFromEnv(env)!)] });
    closers.push(() => created.close());
    lambdaHandler(created);
    expect(lines.filter((l) => l.includes('makes it send the event again') && l.includes('"slack"'))).toHaveLength(1);
  });

  it("behind a named stage (a REST API's /prod), the console's links carry the stage once PUBLIC_URL is the stage's URL, as the README says", async () => {
    const ADMIN_TOKEN = 'lambda-stage-admin-token-5c1e';
    const signIn = async (env: Record<string, string>) => {
      const bot = createBot({ config: loadConfig({ ...testEnv, ADMIN_TOKEN, MODE: 'direct', ...env }) });
      closers.push(() => bot.close());
      const result = await lambdaHandler(bot)(restApiEvent({ method: 'GET', path: '/console', headers: {}, body: '' }), undefined);
      expect(result.statusCode).toBe(200);
      return String(result.body);
    };
    expect(await signIn({ PUBLIC_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod' })).toContain('action="/prod/console/login"');
    // Without it, the stage is not in the links: API Gateway refuses /console/login (403).
    expect(await signIn({})).toContain('action="/console/login"');
  });

  it('answers a server-sent-events route (the console\'s live overview) with the events of its first second, instead of hanging until the timeout', async () => {
    const ADMIN_TOKEN = 'lambda-sse-admin-token-7d2b';
    const bot = createBot({ config: loadConfig({ ...testEnv, ADMIN_TOKEN, MODE: 'direct' }) });
    closers.push(() => bot.close());
    const result = await eventStreamWithin(bot, '/console/api/events', ADMIN_TOKEN, 5000);
    expect(result!.body).toContain('retry: 5000');
    expect(result!.body).toMatch(/event: overview\ndata: \{/);
  });

  it("answers the web chat's transcript stream too within its window, though the transcript stays quiet (its heartbeat is 15 s away)", async () => {
    const WEB_TOKEN = 'lambda-sse-web-token-3a9f';
    const config = loadConfig({ ...testEnv, WEB_TOKEN, MODE: 'direct' });
    const bot = createBot({ config, adapters: [webChat({ token: config.web.token })] });
    closers.push(() => bot.close());
    await eventStreamWithin(bot, '/web/conversations/quiet-one/events', WEB_TOKEN, 4000);
  });

  it('refuses a body that is not what was signed, and queues nothing', async () => {
    const { ingress, queueUrl } = await serverless();
    const request = slackRequest('tampered');
    const result = await ingress(httpApiEvent({ ...request, body: request.body.replace('tampered', 'tampered!') }, { base64: true }));
    expect(result.statusCode).toBe(401);
    expect(await receive(client, queueUrl)).toEqual([]);
  });

  it('a worker failure is reported in batchItemFailures, redelivered and answered once; the rest of the batch is not re-run', async () => {
    const { ingress, worker, queueUrl } = await serverless();
    const failing = slackRequest('fail once please');
    await ingress(restApiEvent(failing));
    const good = JSON.stringify(appMention({ text: 'fine', channel: 'C0OTHER' }));
    await ingress(restApiEvent({ method: 'POST', path: '/slack/events', headers: { 'Content-Type': 'application/json', ...signSlack('test-signing-secret', good) }, body: good }));
    const first = await pollOnce(client, queueUrl, worker);
    expect(first.records).toBe(2);
    expect(first.failures).toHaveLength(1);
    await until(async () => (await pollOnce(client, queueUrl, worker)).records > 0, 'the failed message redelivered');
    expect(repliesTo('echo: fail once please')).toHaveLength(1);
    expect(repliesTo('echo: fine')).toHaveLength(1);
  });

  it('starts no message the function could not finish before its timeout: the rest go back at once, no attempt spent, answered in order', async () => {
    const { ingress, worker, queueUrl } = await serverless();
    const thread = '1700000000.000100';
    for (const n of [1, 2, 3]) await ingress(restApiEvent(slackRequest(`slowly ${n}`, thread)));
    // One conversation, one batch. Time left: the AI's deadline and a reply, plus 300 ms, so only
    // the first message (600 ms of AI) starts.
    const needsMs = 10_000 + 10_000;
    const short = { getRemainingTimeInMillis: () => needsMs + 300 };
    const first = await pollOnce(client, queueUrl, (event) => worker(event, short));
    expect(first.records).toBe(3);
    expect(first.failures).toHaveLength(2);
    expect(slack.callsTo('chat.postMessage').map((c) => String(c.args.text)).filter((t) => t.startsWith('echo: slowly'))).toEqual(['echo: slowly 1']);
    // Left at once (visible again), and not counted as attempts: plenty of time now.
    const again = await until(async () => {
      const polled = await pollOnce(client, queueUrl, (event) => worker(event, { getRemainingTimeInMillis: () => 900_000 }));
      return polled.records > 0 && polled;
    }, 'the messages left back in the queue');
    expect(again).toEqual({ records: 2, failures: [] });
    expect(slack.callsTo('chat.postMessage').map((c) => String(c.args.text)).filter((t) => t.startsWith('echo: slowly'))).toEqual(['echo: slowly 1', 'echo: slowly 2', 'echo: slowly 3']);
  });

  it("a function whose timeout is shorter than the AI's deadline still starts each conversation's first message, and says so once", async () => {
    const { ingress, worker, workerBot, queueUrl } = await serverless();
    const lines: string[] = [];
    const warn = workerBot.logger.warn.bind(workerBot.logger);
    workerBot.logger.warn = ((...args: unknown[]) => {
      lines.push(JSON.stringify(args));
      return (warn as (...a: unknown[]) => void)(...args);
    }) as typeof workerBot.logger.warn;
    await ingress(restApiEvent(slackRequest('short timeout please')));
    const polled = await pollOnce(client, queueUrl, (event) => worker(event, { getRemainingTimeInMillis: () => 5_000 }));
    expect(polled).toEqual({ records: 1, failures: [] });
    expect(repliesTo('echo: short timeout please')).toHaveLength(1);
    expect(lines.filter((l) => l.includes('shorter than AI_DEADLINE_MS'))).toHaveLength(1);
  });

  it('a poison message ends in the dead letters with one apology; a body that is no job too', async () => {
    const { ingress, worker, workerBot, queueUrl } = await serverless();
    await ingress(httpApiEvent(slackRequest('poison pill')));
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'not json', MessageGroupId: 'x', MessageDeduplicationId: 'junk-1' }));
    expect((await pollOnce(client, queueUrl, worker)).failures).toHaveLength(1); // the pill's first attempt; the junk is moved at once
    await until(async () => (await pollOnce(client, queueUrl, worker)).records > 0, 'the pill redelivered');
    const letters = await workerBot.deadLetters.list();
    expect(letters.map((l) => l.reason).sort()).toEqual(['attempts_exhausted', 'invalid_job']);
    expect(letters.find((l) => l.reason === 'attempts_exhausted')).toMatchObject({ attempts: 2, data: { type: 'message', message: { text: expect.stringContaining('poison pill') } } });
    // The apology is a job of its own on SQS (it outlives the invocation that gave the pill up): the next poll posts it.
    await until(async () => (await pollOnce(client, queueUrl, worker)).records > 0, 'the apology job');
    expect(slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).startsWith('Sorry'))).toHaveLength(1);
    expect(await receive(client, queueUrl)).toEqual([]);
  });
});
