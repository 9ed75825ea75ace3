/**
 * A reply posted at the moment Redis goes away (issue 9, item 6): the adapter's sent marker goes
 * to the patient store, which waits for Redis to come back, so the job does not post the reply a
 * second time after the restart. A real redis-server of the test's own is stopped and restarted;
 * Slack and the AI are faked over HTTP.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';
import { startSlackBot } from '../helpers/slack-bot.js';

describe('an adapter\'s sent marker across a Redis restart', () => {
  let redis: PrivateRedis;
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let bot: Bot;
  let url: string;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    ({ bot, url } = await startSlackBot(slack, ai, { REDIS_URL: redis.url, SLACK_BOT_TOKEN: 'xoxb-markers', QUEUE_LOCK_MS: '3000' }));
  });
  afterAll(async () => {
    await bot.close();
    await redis.stop();
    await slack.close();
    await ai.close();
  });

  it('a reply posted just as Redis stops is posted once', async () => {
    let stopped: Promise<void> | undefined;
    // Slack takes the first post, but answers only once Redis is down: the marker is written into the outage.
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { after: (stopped = redis.stop()) } : undefined));
    const res = await postSlack(url, appMention({ text: 'posted as Redis goes away' }));
    expect(res.status).toBe(200);
    await until(() => stopped !== undefined, 'the first post to reach Slack');
    await stopped;
    await new Promise((resolve) => setTimeout(resolve, 300)); // the outage lasts a moment after the post
    await redis.start();

    await until(async () => {
      const counts = await bot.queue.counts().catch(() => undefined);
      return counts && counts.waiting + counts.active + counts.delayed === 0;
    }, 'the job to finish after the restart', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // room for a second post to show up
    const posts = slack.callsTo('chat.postMessage').filter((c) => c.args.text === 'echo: posted as Redis goes away');
    expect(posts).toHaveLength(1);
    const admin = new Redis(redis.url);
    try {
      expect(await admin.keys('parley:slack:part:*')).toHaveLength(1);
    } finally {
      admin.disconnect();
    }
  }, 60_000);
});
