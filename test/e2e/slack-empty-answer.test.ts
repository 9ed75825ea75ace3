/**
 * The AI answers with no text (a reasoning model that spent its output tokens reasoning). The user
 * must not be left with no reply under an "is thinking…" that never goes: no empty message is
 * posted (streamed or not), the status is cleared, the one apology comes after the attempts, and
 * the message is not logged as answered. Real server; Slack and the AI faked over HTTP.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../fakes/slack-api.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

type Line = { msg: string; replies?: number };

describe('an empty answer from the AI, on Slack', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  const lines: Line[] = [];
  const start = async (env: Record<string, string>) => {
    lines.length = 0;
    slack = await startFakeSlack();
    ai = await startFakeOpenAi(() => ({ text: '' }));
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    server = await startSlackBot(slack, ai, { JOB_ATTEMPTS: '2', AI_ATTEMPTS: '2', ...env }, undefined, { bot: { logger } });
  };
  afterEach(async () => {
    await server.close();
    await slack.close();
    await ai.close();
  });

  const textOf = (call: SlackCall) => String(call.args.text ?? call.args.markdown_text ?? '');
  const settle = async () => {
    await until(() => lines.find((line) => line.msg === 'message given up'), 'the message to be given up', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for anything else to show up
  };
  const expectApologyOnly = () => {
    const posts = slack.callsTo('chat.postMessage');
    expect(posts.map(textOf).filter((text) => text.trim() === '')).toEqual([]);
    expect(posts).toHaveLength(1);
    expect(textOf(posts[0]!)).toContain('Sorry');
    const statuses = slack.callsTo('assistant.threads.setStatus').map((call) => call.args.status);
    expect(statuses[0]).toBe('is thinking…');
    expect(statuses.at(-1)).toBe('');
    expect(lines.filter((line) => line.msg === 'message answered')).toEqual([]);
    // Each of JOB_ATTEMPTS asked the AI once: an empty answer is not retried within the call.
    expect(ai.calls).toHaveLength(2);
  };

  it('posts no empty message: the status is cleared and the one apology comes after the attempts', async () => {
    await start({});
    await postSlack(server.url, appMention({ text: 'think very hard' }));
    await settle();
    expectApologyOnly();
  });

  it('streamed (SLACK_STREAMING=on): no stream is started, so no empty message; the same apology', async () => {
    await start({ SLACK_STREAMING: 'on' });
    await postSlack(server.url, appMention({ text: 'think very hard' }));
    await settle();
    expect(slack.callsTo('chat.startStream')).toEqual([]);
    expect(slack.callsTo('chat.stopStream')).toEqual([]);
    expectApologyOnly();
  });
});
