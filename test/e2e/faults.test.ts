/**
 * The everyday faults, end to end: a real server, Slack's Web API and the AI faked over HTTP.
 * What the user sees is what is asserted: one reply per message, an answer rather than an
 * apology whenever the provider recovered in time, nothing dead-lettered, nothing doubled.
 */
import { describe, it, type ExpectStatic, type TestContext } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi, type Script } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../fakes/slack-api.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';

const APOLOGY = /Sorry/;
/** chat.postMessage calls the fake answered 429 to: not replies the user saw (each test's fake makes its own calls). */
const refusedPosts = new WeakSet<SlackCall>();
const okPosts = (slack: FakeSlack) => slack.callsTo('chat.postMessage').filter((call) => !refusedPosts.has(call));

/** Mentions from different users in different threads; returns each thread's ts and question. */
async function mention(expect: ExpectStatic, server: SlackBot, count: number, label: string): Promise<{ thread: string; text: string }[]> {
  const sent: { thread: string; text: string }[] = [];
  for (let i = 0; i < count; i++) {
    const text = `${label} question ${i}`;
    const event = appMention({ text, user: `U${label.toUpperCase()}${i}` });
    const res = await postSlack(server.url, event);
    expect(res.status).toBe(200);
    sent.push({ thread: String(event.event.ts), text });
  }
  return sent;
}

/** Every thread got exactly one reply, the answer to its own question. */
function expectOneAnswerEach(expect: ExpectStatic, posts: SlackCall[], sent: { thread: string; text: string }[]): void {
  for (const { thread, text } of sent) {
    const inThread = posts.filter((p) => p.args.thread_ts === thread);
    expect(inThread.map((p) => p.args.text)).toEqual([`echo: ${text}`]);
  }
  expect(posts.filter((p) => APOLOGY.test(String(p.args.text)))).toEqual([]);
}

/** A test's fake AI (answering `script`), fake Slack and bot server, closed when the test finishes. */
async function world(test: TestContext, script: Script, env: Record<string, string> = {}, slackSetup?: (slack: FakeSlack) => void): Promise<{ ai: FakeOpenAi; slack: FakeSlack; server: SlackBot }> {
  const ai = await startFakeOpenAi(script);
  test.onTestFinished(() => ai.close());
  const slack = await startFakeSlack();
  test.onTestFinished(() => slack.close());
  slackSetup?.(slack);
  const server = await startSlackBot(slack, ai, env);
  test.onTestFinished(() => server.close());
  return { ai, slack, server };
}

// Each test waits out a provider's Retry-After or outage with its own fakes and bot (and metrics
// registry): side by side, so the file takes about as long as its longest test.
describe.concurrent('faults, end to end', () => {
  it('an AI 429 burst (Retry-After: 1, 15 calls in a row): all 20 users get their answer, none an apology', async (test) => {
    const { expect } = test;
    const { ai, slack, server } = await world(test, (call, i) => (i < 15 ? { status: 429, headers: { 'retry-after': '1' } } : { text: `echo: ${lastUserText(call)}` }));

    const sent = await mention(expect, server, 20, 'burst');
    await until(() => okPosts(slack).length >= 20, '20 replies', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more arrives

    expectOneAnswerEach(expect, okPosts(slack), sent);
    expect(ai.calls).toHaveLength(15 + 20);
    expect(await server.bot.deadLetters.list()).toEqual([]);
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    expect(metrics).toMatch(/parley_ai_calls_total\{model="gpt-4o-mini",outcome="rate_limited"\} 15/);
    expect(metrics).toMatch(/parley_ai_calls_total\{model="gpt-4o-mini",outcome="ok"\} 20/);
  }, 40_000);

  it('an AI 5xx outage of about 10 s: messages that arrived during it are answered once it is back, with no apology', async (test) => {
    const { expect } = test;
    const backAt = Date.now() + 10_000;
    const { ai, slack, server } = await world(test, (call) => (Date.now() < backAt ? { status: 503 } : { text: `echo: ${lastUserText(call)}` }), { AI_BREAKER_HALF_OPEN_MS: '1000' });

    const sent = await mention(expect, server, 5, 'outage');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(server.bot.ai.circuit).not.toBe('closed');
    await until(() => okPosts(slack).length >= 5, '5 replies', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));

    expectOneAnswerEach(expect, okPosts(slack), sent);
    expect(await server.bot.deadLetters.list()).toEqual([]);
    // The breaker spared the provider: far fewer calls than 5 messages × AI_ATTEMPTS × JOB_ATTEMPTS.
    expect(ai.calls.filter((c) => c.at < backAt).length).toBeLessThan(30);
  }, 40_000);

  it('an AI 5xx outage of every model, with a fallback model on the same provider and AI_ATTEMPTS=2: answered once it is back, no apology', async (test) => {
    const { expect } = test;
    const backAt = Date.now() + 4000;
    const { slack, server } = await world(test, (call) => (Date.now() < backAt ? { status: 503 } : { text: `echo: ${lastUserText(call)}` }), { OPENAI_FALLBACK_MODEL: 'cheaper-model', AI_ATTEMPTS: '2', AI_BREAKER_HALF_OPEN_MS: '1000' });

    const sent = await mention(expect, server, 1, 'sameprovider');
    await until(() => okPosts(slack).length >= 1, 'the reply', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));

    // The fallback's 503s waited with the primary's open circuit instead of spending job attempts.
    expectOneAnswerEach(expect, okPosts(slack), sent);
    expect(await server.bot.deadLetters.list()).toEqual([]);
    expect(okPosts(slack)[0]!.at).toBeGreaterThanOrEqual(backAt);
  }, 40_000);

  it('Slack answers 429 to ten chat.postMessage calls during an AI 429 burst: one reply each, thinking kept until it lands', async (test) => {
    const { expect } = test;
    const refuseTen = (slack: FakeSlack) =>
      slack.on('chat.postMessage', (call, n) => {
        if (n >= 10) return undefined;
        refusedPosts.add(call);
        return { status: 429, headers: { 'retry-after': '1' } };
      });
    const { slack, server } = await world(test, (call, i) => (i < 5 ? { status: 429, headers: { 'retry-after': '1' } } : { text: `echo: ${lastUserText(call)}` }), {}, refuseTen);

    const sent = await mention(expect, server, 5, 'slack429');
    await until(() => okPosts(slack).length >= 5, '5 replies', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(slack.callsTo('chat.postMessage').length).toBe(15);
    expectOneAnswerEach(expect, okPosts(slack), sent);
    expect(await server.bot.deadLetters.list()).toEqual([]);
    for (const { thread } of sent) {
      const statuses = slack.callsTo('assistant.threads.setStatus').filter((c) => c.args.thread_ts === thread);
      // "Thinking" kept (never cleared by hand) until the answer landed: Slack clears it with the reply.
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.every((c) => c.args.status === 'is thinking…')).toBe(true);
      const posted = okPosts(slack).find((p) => p.args.thread_ts === thread)!;
      expect(statuses[0]!.at).toBeLessThanOrEqual(posted.at);
    }
  }, 40_000);

  it('a 429 that never ends with AI_MAX_WAIT_MS=2000: the apology comes after about 2 s, and the dead letter says how long it really waited', async (test) => {
    const { expect } = test;
    const { slack, server } = await world(test, () => ({ status: 429, headers: { 'retry-after': '1' } }), { AI_MAX_WAIT_MS: '2000' });

    const sentAt = Date.now();
    await mention(expect, server, 1, 'maxwait');
    const letter = await until(async () => (await server.bot.deadLetters.list())[0], 'a dead letter', 15_000);
    const elapsed = Date.now() - sentAt;
    expect(letter.reason).toBe('max_wait');
    expect(elapsed).toBeLessThan(6000);
    const waited = Number(/waited (\d+) s/.exec(letter.error)?.[1]) * 1000;
    expect(waited).toBeGreaterThanOrEqual(2000);
    expect(waited).toBeGreaterThanOrEqual(elapsed - 1500); // rounded to the second, and the job's pick-up
    const posts = slack.callsTo('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(String(posts[0]!.args.text)).toMatch(APOLOGY);
  }, 40_000);

  it('a 429 insufficient_quota goes to the dead letters at once, and the user gets the one apology', async (test) => {
    const { expect } = test;
    const { ai, slack, server } = await world(test, () => ({
      status: 429,
      body: { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } },
    }));

    await mention(expect, server, 1, 'quota');
    const letter = await until(async () => (await server.bot.deadLetters.list())[0], 'a dead letter');
    expect(letter).toMatchObject({ reason: 'ai_quota', attempts: 1 });
    expect(ai.calls).toHaveLength(1);
    const posts = slack.callsTo('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(String(posts[0]!.args.text)).toMatch(APOLOGY);
  });
});
