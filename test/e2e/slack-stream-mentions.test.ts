/**
 * A streamed Slack reply (markdown_text) whose model was asked to repeat `<!channel>`, `<@U…>` and
 * the like: what Slack receives cannot ping anyone, also when a mention is cut between two chunks,
 * when a broken stream is finished with chat.stopStream, and when streaming falls back to posting;
 * ordinary text, code and links reach Slack as the model wrote them. Slack and the AI are faked over HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebClient } from '@slack/web-api';
import type { Bot } from '../../src/index.js';
import { MemoryStore } from '../../src/index.js';
import { webClientOptions } from '../../adapters/slack/adapter.js';
import { SlackSender } from '../../adapters/slack/send.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../fakes/slack-api.js';
import { appMention, directMessage, postSlack } from '../helpers/slack-events.js';
import { startSlackBot } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';
import { silentLogger } from '../unit/helpers.js';

/** A sequence Slack would expand into a mention (or a channel link). */
const CAN_PING = /<(?:[@#]|!(?:here|channel|everyone|group|subteam))|(?<!\w)@(?:here|channel|everyone)/i;
/** The same in mrkdwn posted without `link_names` (parley never sets it): a bare `@here` is text there. */
const CAN_PING_MRKDWN = /<(?:[@#]|!(?:here|channel|everyone|group|subteam))/i;
/** The text as the reader sees it: zero-width spaces show nothing. */
const displayed = (text: string) => text.replace(/\u200B/g, '');
const textOf = (call: SlackCall) =>
  String(call.args.markdown_text ?? '') + ((call.args.chunks as { text?: string }[] | undefined) ?? []).map((chunk) => chunk.text ?? '').join('');

/** Long enough for the WebClient's streamer (256-character buffer) to start, append and stop, mentions in every part of it. */
const ORDINARY = 'Here is **bold**, `a < b && c > d`, [the docs](https://example.com/a?b=1&c=2), <https://example.com>, me@here.example and ```\n<!DOCTYPE html>\n<!-- note -->\n```\n';
const REPLY = Array.from({ length: 6 }, (_, i) => `${i}: as you asked, <!channel> <!here> <@U0ALICE> <#C0GENERAL|general> <!subteam^S0OPS> @everyone. ${ORDINARY}`).join('\n');

const thread = { platform: 'slack', id: 'T1:C1:1700000000.000100', details: { team: 'T1', channel: 'C1', threadTs: '1700000000.000100', user: 'U1' } };
const streamCalls = (slack: FakeSlack, accepted: (call: SlackCall, n: number) => boolean = () => true) =>
  ['chat.startStream', 'chat.appendStream', 'chat.stopStream'].flatMap((method) => slack.callsTo(method).filter(accepted));

describe('a streamed reply repeating mentions (SlackSender.stream)', () => {
  let slack: FakeSlack;
  beforeEach(async () => {
    slack = await startFakeSlack();
  });
  afterEach(async () => {
    await slack.close();
  });
  const sender = () => new SlackSender(new WebClient('xoxb-stream', webClientOptions(slack.url)), () => new MemoryStore(), () => silentLogger);
  /** The reply in chunks of `size`: every mention is cut somewhere for some size. */
  const chunked = (size: number) =>
    (async function* () {
      for (let at = 0; at < REPLY.length; at += size) yield REPLY.slice(at, at + size);
    })();

  it.each([1, 5, 7, 13, 256])('chunks of %i characters: Slack is sent text that cannot ping, reading as the model wrote it', async (size) => {
    const delivery = await sender().stream(thread, chunked(size), `job-m${size}:1`);
    expect(delivery.rest).toBeUndefined();
    expect(delivery.text).toBe(REPLY); // the reply as kept is the model's
    const sent = streamCalls(slack).map(textOf);
    expect(sent.filter((text) => CAN_PING.test(text))).toEqual([]);
    expect(displayed(sent.join(''))).toBe(REPLY);
    // Ordinary text, code and links are sent exactly as written.
    expect(sent.join('')).toContain(ORDINARY);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('a stream that broke after it started is finished (chat.stopStream with the rest) with text that cannot ping', async () => {
    slack.on('chat.appendStream', () => ({ body: { ok: false, error: 'internal_error' } }));
    const delivery = await sender().stream(thread, chunked(7), 'job-mb:1');
    expect(delivery.rest).toBeUndefined();
    const stops = slack.callsTo('chat.stopStream');
    expect(stops.length).toBeGreaterThan(0);
    expect(stops.map(textOf).join('')).toMatch(/channel/); // the rest went with the stop
    const sent = streamCalls(slack, (call) => call.method !== 'chat.appendStream').map(textOf);
    expect(sent.filter((text) => CAN_PING.test(text))).toEqual([]);
    expect(displayed(sent.join(''))).toBe(REPLY);
  });

  it('an AI that breaks off mid-way: the started message is stopped with what it gave, which cannot ping', async () => {
    const breaking = (async function* () {
      yield REPLY.slice(0, 400);
      yield REPLY.slice(400, 420);
      throw new Error('the AI broke off');
    })();
    await expect(sender().stream(thread, breaking, 'job-ma:1')).rejects.toThrow();
    const sent = streamCalls(slack).map(textOf);
    expect(sent.join('')).not.toBe('');
    expect(sent.filter((text) => CAN_PING.test(text))).toEqual([]);
    expect(displayed(sent.join(''))).toBe(REPLY.slice(0, 420));
  });
});

describe('a reply repeating mentions, posted where streaming is not available', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let bot: Bot;
  let url: string;
  beforeEach(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi(() => ({ text: REPLY }));
    ({ bot, url } = await startSlackBot(slack, ai, { SLACK_BOT_TOKEN: 'xoxb-stream', SLACK_STREAMING: 'on' }));
  });
  afterEach(async () => {
    await bot.close();
    await slack.close();
    await ai.close();
  });
  const posted = () => slack.callsTo('chat.postMessage').map((call) => `${String(call.args.text)}${JSON.stringify(call.args.blocks ?? '')}`);

  it('streamed in a thread (the bot as a whole): nothing Slack is sent can ping', async () => {
    await postSlack(url, appMention({ text: 'repeat after me' }));
    await until(() => slack.callsTo('chat.stopStream')[0], 'the stream to be finished');
    const sent = streamCalls(slack).map(textOf);
    expect(sent.filter((text) => CAN_PING.test(text))).toEqual([]);
    expect(displayed(sent.join(''))).toBe(REPLY);
  });

  it('a stream Slack refused to start: the reply posted instead cannot ping', async () => {
    slack.on('chat.startStream', () => ({ body: { ok: false, error: 'not_allowed_token_type' } }));
    await postSlack(url, appMention({ text: 'repeat after me' }));
    await until(() => (slack.callsTo('chat.postMessage').length ? true : undefined), 'the reply');
    expect(posted().join('')).toContain('&lt;!channel&gt;');
    expect(posted().filter((text) => CAN_PING_MRKDWN.test(text))).toEqual([]);
  });

  it('a DM outside a thread (nothing to stream in): the reply posted cannot ping', async () => {
    await postSlack(url, directMessage({ text: 'repeat after me' }));
    await until(() => (slack.callsTo('chat.postMessage').length ? true : undefined), 'the reply');
    expect(posted().join('')).toContain('&lt;!channel&gt;');
    expect(posted().filter((text) => CAN_PING_MRKDWN.test(text))).toEqual([]);
  });
});
