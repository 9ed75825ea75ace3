/**
 * Slack interactions on AWS Lambda (lambdaHandler), whose function is frozen as soon as it has
 * answered: a 👎 click is answered only once its rating is stored and its reason modal opened, as
 * Bolt's AwsLambdaReceiver does; and a fresh function's first click waits for the adapter's start
 * instead of being refused. Slack faked over HTTP; the bot's own in-memory store and log.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { lambdaHandler } from '../../aws/index.js';
import { createBot, loadConfig, MemoryConversationLog, MemoryStore } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { httpApiEvent } from '../helpers/lambda-events.js';
import { CHANNEL_ID, DM_CHANNEL_ID, TEAM_ID, USER_ID, assistantThreadStarted, blockActions, directMessage, interactionForm, nextSlackTs, signSlack } from '../helpers/slack-events.js';
import { testEnv } from '../helpers/web-bot.js';

describe('Slack feedback clicks on AWS Lambda', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  const closers: (() => Promise<unknown>)[] = [];
  const lambdaName = process.env.AWS_LAMBDA_FUNCTION_NAME;
  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'parley-ingress';
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  afterAll(async () => {
    if (lambdaName === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    else process.env.AWS_LAMBDA_FUNCTION_NAME = lambdaName;
    await slack.close();
    await ai.close();
  });

  it("a fresh function's first 👎 click: when the handler returns, the rating is stored and the reason modal opened", async () => {
    // Slack is a little slow to open the modal: an answer given at the ack would come first.
    slack.on('views.open', () => ({ body: { ok: true, view: { id: 'V0REASON' } }, delayMs: 300 }));
    const env = { ...testEnv, MODE: 'direct', OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url };
    const conversationLog = new MemoryConversationLog();
    const threadTs = nextSlackTs();
    const conversation = `${TEAM_ID}:${CHANNEL_ID}:${threadTs}`;
    await conversationLog.record({
      id: 'slack.Ev0ANSWERED',
      conversationId: conversation,
      timestamp: new Date().toISOString(),
      platform: 'slack',
      user: USER_ID,
      input: 'what is parley?',
      output: 'echo: what is parley?',
      model: 'gpt-test',
      inputTokens: 1,
      outputTokens: 1,
      costUsd: 0,
      latencyMs: 1,
    });
    const bot = createBot({ config: loadConfig(env), adapters: [slackAdapter(slackConfigFromEnv(env)!)], store: new MemoryStore(), conversationLog });
    closers.push(() => bot.close());
    const click = blockActions({ actionId: 'parley_feedback', value: 'bad:slack.Ev0ANSWERED' });
    const payload = {
      ...click,
      container: { ...(click.container as object), thread_ts: threadTs },
      message: { ...(click.message as object), thread_ts: threadTs },
      actions: [{ type: 'feedback_buttons', action_id: 'parley_feedback', block_id: 'parley_feedback:slack.Ev0ANSWERED', value: 'bad:slack.Ev0ANSWERED', action_ts: nextSlackTs() }],
    };
    const body = interactionForm(payload);
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': 'Slackbot 1.0', ...signSlack('test-signing-secret', body) };

    // The first request of a fresh function: the adapter has not started yet.
    const result = await lambdaHandler(bot)(httpApiEvent({ method: 'POST', path: '/slack/events', headers, body }));

    expect(result.statusCode).toBe(200);
    expect(slack.callsTo('views.open').map((c) => c.args.trigger_id)).toEqual([click.trigger_id]);
    expect((await conversationLog.list(conversation))[0]?.feedback).toMatchObject({ rating: 'bad', user: USER_ID });
  });

  it("an assistant thread's first question is taken before parley's own work after the ack (the title), which a slow Slack holds up", async () => {
    slack.on('assistant.threads.setTitle', () => ({ body: { ok: true }, delayMs: 500 }));
    const env = { ...testEnv, MODE: 'direct', OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url };
    const bot = createBot({ config: loadConfig(env), adapters: [slackAdapter(slackConfigFromEnv(env)!)], store: new MemoryStore() });
    closers.push(() => bot.close());
    const handler = lambdaHandler(bot);
    await bot.ready; // a warm function (a cold one's first event is taken while the adapter starts)
    const post = async (envelope: unknown) => {
      const body = JSON.stringify(envelope);
      const headers = { 'Content-Type': 'application/json', ...signSlack('test-signing-secret', body) };
      return handler(httpApiEvent({ method: 'POST', path: '/slack/events', headers, body }));
    };
    const threadTs = nextSlackTs();
    expect((await post(assistantThreadStarted({ threadTs }))).statusCode).toBe(200);
    const before = slack.calls.length;
    expect((await post(directMessage({ text: 'what is parley?', threadTs, channel: DM_CHANNEL_ID }))).statusCode).toBe(200);
    // Direct mode answers while the message is taken: the answer comes before the title.
    const methods = slack.calls.slice(before).map((call) => call.method);
    expect(methods).toContain('assistant.threads.setTitle');
    expect(methods.indexOf('chat.postMessage')).toBeGreaterThanOrEqual(0);
    expect(methods.indexOf('chat.postMessage')).toBeLessThan(methods.indexOf('assistant.threads.setTitle'));
  });
});
