/**
 * `parley_replies_failed_total` counts replies the platform would not take (its alert says so):
 * an AI stream that breaks while its answer streams to Slack is an AI error, not a failed reply.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

const ANSWER = 'y'.repeat(400);

/** One series' value as Prometheus scrapes it from /metrics (0 when it has not appeared). */
async function scraped(server: SlackBot, series: string): Promise<number> {
  const text = await (await fetch(`${server.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('Slack streaming: an AI failure mid-stream in /metrics', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  beforeEach(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi(() => ({ text: ANSWER }));
    server = await startSlackBot(slack, ai, { SLACK_STREAMING: 'on', CACHE_TTL_SECONDS: '0' });
  });
  afterEach(async () => {
    await server.close();
    await slack.close();
    await ai.close();
  });

  it('a stream the AI breaks before any text shows, asked again and answered: an AI error, no failed reply', async () => {
    ai.script((_call, index) => (index === 0 ? { text: ANSWER, breakAfterChars: 10 } : { text: ANSWER }));
    await postSlack(server.url, appMention({ text: 'a long answer please' }));
    await until(() => slack.callsTo('chat.stopStream')[0], 'the answer streamed');
    await until(async () => (await scraped(server, 'parley_replies_sent_total{platform="slack",kind="answer"}')) === 1, 'the answer counted');
    expect(await scraped(server, 'parley_ai_errors_total{kind="connection"}')).toBe(1);
    expect(await scraped(server, 'parley_replies_failed_total{platform="slack"}')).toBe(0);
  });

  it('a stream the AI breaks after its text showed on every try (JOB_ATTEMPTS), given up with an apology: AI errors, no failed reply', async () => {
    ai.script(() => ({ text: ANSWER, breakAfterChars: 300 }));
    await postSlack(server.url, appMention({ text: 'a long answer please' }));
    await until(async () => (await scraped(server, 'parley_dead_lettered_total{platform="slack",reason="attempts_exhausted"}')) === 1, 'the message given up');
    await until(async () => (await scraped(server, 'parley_replies_sent_total{platform="slack",kind="apology"}')) === 1, 'the apology');
    expect(await scraped(server, 'parley_ai_errors_total{kind="connection"}')).toBe(3);
    expect(await scraped(server, 'parley_replies_failed_total{platform="slack"}')).toBe(0);
  });

  it('a stream the AI breaks after its text showed, whose finishing stop Slack refuses: an AI error, and the reply Slack would not take counted once a try', async () => {
    ai.script(() => ({ text: ANSWER, breakAfterChars: 300 }));
    slack.on('chat.stopStream', () => ({ body: { ok: false, error: 'internal_error' } }));
    await postSlack(server.url, appMention({ text: 'a long answer please' }));
    await until(async () => (await scraped(server, 'parley_replies_sent_total{platform="slack",kind="apology"}')) === 1, 'the apology');
    expect(slack.callsTo('chat.stopStream').length).toBeGreaterThan(0);
    expect(await scraped(server, 'parley_ai_errors_total{kind="connection"}')).toBe(3);
    expect(await scraped(server, 'parley_replies_failed_total{platform="slack"}')).toBe(3);
  });

  it('a stream Slack refuses (and the parts after it) is still a failed reply', async () => {
    for (const method of ['chat.startStream', 'chat.postMessage']) slack.on(method, () => ({ body: { ok: false, error: 'channel_not_found' } }));
    await postSlack(server.url, appMention({ text: 'a long answer please' }));
    await until(async () => (await scraped(server, 'parley_replies_failed_total{platform="slack"}')) >= 1, 'the failed reply counted');
    expect(await scraped(server, 'parley_ai_errors_total{kind="connection"}')).toBe(0);
  });
});
