/**
 * A slow Redis, not a frozen one: every round trip takes ~1.2 s, under the 1.5 s after which a
 * command counts as down, and under the ack's budget (2 s of Slack's 3). Slack must have every
 * answer within its 3 s, and here every one is a 200: each ack's one script goes out on the door's
 * connection at once, none waiting for the answers to the ones before (ioredis's auto-pipelining
 * sent one batch at a time, so four acks at once queued behind each other and the later ones ran
 * out of the budget: 503s, and Slack's redeliveries). Then every message is answered once by the
 * worker, and the over-limit one gets its one notice. The real bot and Redis, through a relay that
 * holds back every chunk; Slack and the AI faked over HTTP. (A step Redis carries out after a 503,
 * and the redelivery then a duplicate: frozen-redis-notices.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack, type SlackEventEnvelope } from '../helpers/slack-events.js';
import { startSlowProxy, type SlowProxy } from '../helpers/slow-proxy.js';
import { until } from '../helpers/until.js';

/** Each way: a round trip of ~1.2 s. */
const SLOW_MS = 600;
const NOTICE = /^You're sending messages faster than I can answer/;

let redis: SlowProxy;
let slack: FakeSlack;
let ai: FakeOpenAi;
let server: SlackBot;

beforeAll(async () => {
  redis = await startSlowProxy(6379, 0);
  slack = await startFakeSlack();
  ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call)}` }));
  // One message a minute per person: a second one is refused, and its notice queued.
  const env = { REDIS_URL: `redis://127.0.0.1:${redis.port}`, REDIS_PREFIX: `slow-ack-${process.pid}-${Date.now()}`, RATE_LIMIT_USER_PER_MINUTE: '1' };
  server = await startSlackBot(slack, ai, env);
}, 30_000);

afterAll(async () => {
  await server?.close();
  await slack?.close();
  await ai?.close();
  await redis?.close();
}, 30_000);

const posted = () => slack.callsTo('chat.postMessage').map((call) => String(call.args.text));

/** Slack's delivery: its answer's status and how long it took. */
async function deliver(event: SlackEventEnvelope): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  const response = await postSlack(server.url, event);
  return { status: response.status, ms: Date.now() - started };
}

describe('a Redis whose every round trip takes ~1.2 s', () => {
  it('answers every Slack delivery 200 within 3 s, and each message once', async () => {
    await deliver(appMention({ text: 'warm up', user: 'U0WARM' }));
    await until(() => posted().includes('echo: warm up'), 'the warm-up answer');

    redis.delayMs = SLOW_MS;
    // Four people at once (their admits on the door's connection together), then a second message
    // from the first of them, over the limit (its notice queued in the same step).
    const first = ['U0ANN', 'U0BOB', 'U0CAT', 'U0DAN'].map((user) => appMention({ text: `question from ${user}`, user }));
    const overLimit = appMention({ text: 'and another from U0ANN', user: 'U0ANN' });
    const answers = await Promise.all(first.map((event) => deliver(event)));
    answers.push(await deliver(overLimit));
    for (const answer of answers) {
      expect(answer.ms).toBeLessThan(3000);
      // Taken: no admit waited for another's answer, so each fit in the budget.
      expect(answer.status).toBe(200);
    }
    redis.delayMs = 0;
    const expected = first.map((event) => `echo: ${String(event.event.text).replace(/^<@UBOT> /, '')}`);
    await until(() => expected.every((text) => posted().includes(text)) && posted().some((text) => NOTICE.test(text)), 'every answer and the notice', 15_000);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // room for a second answer to show up
    for (const text of expected) expect(posted().filter((p) => p === text)).toHaveLength(1);
    expect(posted().filter((text) => NOTICE.test(text))).toHaveLength(1);
    // The over-limit message itself is never answered.
    expect(posted().filter((text) => text.includes('and another'))).toEqual([]);
    expect(ai.calls.length).toBe(5); // the warm-up and the four questions
  }, 60_000);
});
