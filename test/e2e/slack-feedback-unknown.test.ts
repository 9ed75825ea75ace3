/**
 * A 👎 in Slack asks for a reason only once the rating is kept: a real bot server whose
 * conversation log is in Redis, the fake Slack Web API and the fake AI over HTTP. A 👎 on an
 * exchange the log does not hold opens no modal (its reason would be dropped); one on an answer
 * does, after the rating is stored, while the click is acknowledged at once.
 */
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { CHANNEL_ID, TEAM_ID, appMention, blockActions, interactionForm, postSlack } from '../helpers/slack-events.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const quiet = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

/** A click on parley's 👎 whose block names `exchange` of `conversation`, as Slack sends it. */
function thumbsDown(exchange: string, conversation: string): Record<string, unknown> {
  const click = blockActions({ channel: CHANNEL_ID });
  click.actions = [{ type: 'feedback_buttons', action_id: 'parley_feedback', block_id: `parley_feedback:${exchange}:${conversation}`, value: `bad:${exchange}`, action_ts: '1700000000.000100' }];
  return click;
}

describe('Slack: a 👎 opens the reason modal only when its rating is kept (Redis log)', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  const raw: string[] = [];

  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    const logger = pino({ level: 'debug' }, { write: (line: string) => void raw.push(line) });
    server = await startSlackBot(slack, ai, { REDIS_URL, REDIS_PREFIX: prefix }, undefined, { bot: { logger } });
  });
  afterAll(async () => {
    await server?.close();
    await slack?.close();
    await ai?.close();
  });
  afterEach(() => slack.reset());

  it('a 👎 on an exchange the log does not hold opens no modal, stores nothing, and logs the platform once', async () => {
    const conversation = `${TEAM_ID}:${CHANNEL_ID}:1700000001.000100`;
    const res = await postSlack(server.url, interactionForm(thumbsDown('slack.Ev0NOSUCH', conversation)));
    expect(res.status).toBe(200);
    const line = await until(() => raw.find((l) => l.includes('slack.Ev0NOSUCH') && /does not hold/.test(l)), 'the ignored line');
    await quiet();
    expect(slack.callsTo('views.open')).toHaveLength(0); // no "What was wrong?" for a rating that was dropped
    expect(await server.bot.conversationLog.list(conversation)).toEqual([]);
    expect(line.match(/"platform":/g)).toHaveLength(1);
  });

  it('a 👎 on an answer is stored, then the modal opens; the click is acknowledged without waiting for Slack', async () => {
    const mention = appMention({ text: 'rate me' });
    await postSlack(server.url, mention);
    const post = await until(() => slack.callsTo('chat.postMessage')[0], 'the answer');
    const conversation = `${TEAM_ID}:${CHANNEL_ID}:${mention.event.ts}`;
    const [entry] = await until(async () => {
      const entries = await server.bot.conversationLog.list(conversation);
      return entries.length ? entries : undefined;
    }, 'the exchange in the log');
    const exchange = entry!.id!;
    expect(JSON.stringify(post.args.blocks)).toContain(`bad:${exchange}`);

    let storedWhenOpened: unknown;
    slack.on('views.open', () => {
      storedWhenOpened = raw.some((l) => l.includes(exchange) && /answer rated/.test(l));
      return { delayMs: 1500, body: { ok: true, view: { id: 'V0REASON' } } };
    });
    const click = thumbsDown(exchange, conversation);
    expect((await postSlack(server.url, interactionForm(click))).status).toBe(200);
    const ackedAt = Date.now();
    const open = await until(() => slack.callsTo('views.open')[0], 'views.open');
    expect(ackedAt).toBeLessThan(open.at + 1500); // before Slack answered views.open (it takes 1.5 s), however slow the machine
    expect(open.args.trigger_id).toBe(click.trigger_id);
    expect(storedWhenOpened).toBe(true);
    expect((await server.bot.conversationLog.list(conversation))[0]?.feedback?.rating).toBe('bad');
    const rated = raw.find((l) => l.includes(exchange) && /answer rated/.test(l))!;
    expect(rated.match(/"platform":/g)).toHaveLength(1);
  });
});
