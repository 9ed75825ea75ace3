/**
 * A message given up (the AI refuses it for good) while Slack refuses posts for a moment: the
 * apology is not lost with its one try. A 5xx, or a 429 longer than is waited out in place, leaves
 * it to a job of its own that the queue retries: the user gets exactly one apology once Slack takes
 * posts again. On Redis the apology is queued before it is posted (a job of its own, which outlives
 * the process). Real server; Slack and the AI faked over HTTP.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeys } from '../helpers/redis-keys.js';
import type { SlackCall } from '../fakes/slack-api.js';
import { slackWorldPerTest } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

describe('the apology, when Slack refuses it for now', () => {
  const start = slackWorldPerTest();

  const textOf = (call: SlackCall) => String(call.args.text ?? '');

  const prefix = `apology-${process.pid}`;
  afterAll(async () => {
    const redis = new Redis('redis://127.0.0.1:6379');
    await deleteKeys(redis, prefix);
    await redis.quit();
  });
  const onRedis = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: prefix };

  it.each([
    ['a 503', { status: 503, body: { ok: false, error: 'fake_http_503' } }, {}],
    ['a 429 with Retry-After: 11 (longer than waited out in place)', { status: 429, headers: { 'retry-after': '11' }, body: { ok: false, error: 'ratelimited' } }, {}],
    ['on Redis, a 503', { status: 503, body: { ok: false, error: 'fake_http_503' } }, onRedis],
  ])('%s on the apology: posted once, by a retry', async (_name, refusal, env: Record<string, string>) => {
    const { slack, ai, server } = await start({
      slack: (fake) => fake.on('chat.postMessage', (_call, n) => (n === 0 ? refusal : undefined)),
      // The AI refuses the question for good: the message is given up at once.
      ai: () => ({ status: 400, body: { error: { message: 'bad request', type: 'invalid_request_error' } } }),
      env: { JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '20', ...env },
    });
    await postSlack(server.url, appMention({ text: 'hello' }));
    const apologies = () => slack.callsTo('chat.postMessage').map(textOf).filter((text) => text.includes('Sorry'));
    await until(() => (slack.callsTo('chat.postMessage').length >= 2 ? true : undefined), 'the apology posted again', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for a duplicate
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2); // refused once, then posted
    expect(apologies()).toHaveLength(2);
    expect(ai.calls).toHaveLength(1);
    const letters = await until(async () => ((await server.bot.queue.deadLetters()).length ? server.bot.queue.deadLetters() : undefined), 'the dead letter', 10_000);
    expect(letters.map((letter) => letter.reason)).toEqual(['ai_client']);
  });
});
