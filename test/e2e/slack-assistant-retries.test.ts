/**
 * An assistant thread's suggested prompts and title when Slack fails those calls or sends its
 * event again (adapters/slack/assistant.ts), end to end with Slack and the AI faked over HTTP:
 * a failure that may pass is tried again in place, one that lasts leaves the thread to the next
 * event, and a thread gets each once. None of it holds up the ack or the answer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { assistantThreadStarted, directMessage, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

const PROMPTS = 'assistant.threads.setSuggestedPrompts';
const TITLE = 'assistant.threads.setTitle';
const quiet = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

let slack: FakeSlack;
let ai: FakeOpenAi;
let server: SlackBot;
beforeAll(async () => {
  slack = await startFakeSlack();
  ai = await startFakeOpenAi();
  server = await startSlackBot(slack, ai);
});
afterAll(async () => {
  await server.close();
  await slack.close();
  await ai.close();
});
afterEach(() => slack.reset());

const answers = () => slack.callsTo('chat.postMessage');
const threadOf = (started: ReturnType<typeof assistantThreadStarted>) => (started.event.assistant_thread as { thread_ts: string }).thread_ts;

/** A started assistant thread whose prompts are set; returns its ts. */
async function startThread(): Promise<string> {
  const started = assistantThreadStarted({});
  expect((await postSlack(server.url, started)).status).toBe(200);
  await until(() => slack.callsTo(PROMPTS).find((c) => c.args.thread_ts === threadOf(started)), 'the suggested prompts');
  return threadOf(started);
}

/** Ask in the thread and wait for the answer (the nth in this test). */
async function ask(threadTs: string, text: string, nth: number): Promise<void> {
  expect((await postSlack(server.url, directMessage({ text, threadTs }))).status).toBe(200);
  await until(() => answers()[nth - 1], `answer ${nth}`);
}

describe("an assistant thread's title", () => {
  it('is set after a short 429, waited out after the ack; the answer does not wait for it', async () => {
    const threadTs = await startThread();
    slack.on(TITLE, (_call, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : undefined));
    await ask(threadTs, 'What is the capital of France?', 1);
    const [refused, titled] = await until(() => (slack.callsTo(TITLE).length === 2 ? slack.callsTo(TITLE) : undefined), 'the title tried again');
    expect(titled!.at - refused!.at).toBeGreaterThanOrEqual(900);
    expect(titled!.args).toMatchObject({ thread_ts: threadTs, title: 'What is the capital of France?' });
    expect(answers()[0]!.at).toBeLessThan(titled!.at);
    await quiet();
    expect(slack.callsTo(TITLE)).toHaveLength(2);
  });

  it('is left to the next question when Slack keeps failing it (a long 429), then set once', async () => {
    const threadTs = await startThread();
    slack.on(TITLE, (_call, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '30' } } : undefined));
    await ask(threadTs, 'What is the capital of France?', 1);
    await until(() => slack.callsTo(TITLE)[0], 'the title tried');
    await quiet();
    expect(slack.callsTo(TITLE)).toHaveLength(1); // 30 s is not waited out after the ack
    await ask(threadTs, 'And of Spain?', 2);
    await until(() => slack.callsTo(TITLE)[1], 'the title tried with the next question');
    await ask(threadTs, 'thanks!', 3);
    await quiet();
    expect(slack.callsTo(TITLE).map((c) => c.args.title)).toEqual(['What is the capital of France?', 'And of Spain?']);
  });
});

describe("an assistant thread's suggested prompts", () => {
  it('are set after a 429 and a 5xx, tried again in place', async () => {
    slack.on(PROMPTS, (_call, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : n === 1 ? { status: 503 } : undefined));
    const started = assistantThreadStarted({});
    expect((await postSlack(server.url, started)).status).toBe(200);
    await until(() => (slack.callsTo(PROMPTS).length === 3 ? true : undefined), 'the prompts tried three times');
    await quiet();
    expect(slack.callsTo(PROMPTS).map((c) => c.args.thread_ts)).toEqual([threadOf(started), threadOf(started), threadOf(started)]);
  });

  it('are set once when Slack sends assistant_thread_started again (X-Slack-Retry-Num, the same event_id)', async () => {
    const started = assistantThreadStarted({});
    const codes = [
      (await postSlack(server.url, started)).status,
      (await postSlack(server.url, started, { retryNum: 1 })).status,
      (await postSlack(server.url, started, { retryNum: 2 })).status,
      (await postSlack(server.url, started)).status,
    ];
    expect(codes).toEqual([200, 200, 200, 200]);
    await until(() => slack.callsTo(PROMPTS)[0], 'the suggested prompts');
    await quiet();
    expect(slack.callsTo(PROMPTS)).toHaveLength(1);
    // It is still an assistant thread: its first question titles it.
    await ask(threadOf(started), 'a first question', 1);
    await until(() => slack.callsTo(TITLE)[0], 'the title');
  });

  it('failing for good (a 5xx each try) are set by a later delivery of the event', async () => {
    slack.on(PROMPTS, (_call, n) => (n < 3 ? { status: 500 } : undefined));
    const started = assistantThreadStarted({});
    expect((await postSlack(server.url, started)).status).toBe(200);
    await until(() => (slack.callsTo(PROMPTS).length === 3 ? true : undefined), 'three tries');
    await quiet(800);
    expect(slack.callsTo(PROMPTS)).toHaveLength(3);
    expect((await postSlack(server.url, started, { retryNum: 1 })).status).toBe(200);
    await until(() => (slack.callsTo(PROMPTS).length === 4 ? true : undefined), 'the prompts set by the redelivery');
    await quiet();
    expect(slack.callsTo(PROMPTS)).toHaveLength(4);
  });
});
