/**
 * A chat.startStream Slack took but whose answer was lost (internal_error after taking it, a cut
 * connection): the message it began is found in the thread (the bot's, still streaming) and
 * finished with the rest of the reply, not left streaming beside the whole reply posted again.
 * A start Slack did not take, or a message that cannot be told for sure, leaves things as before:
 * the reply is posted, and no other message is touched. Slack is faked over HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebClient } from '@slack/web-api';
import { MemoryStore } from '../../src/index.js';
import { webClientOptions } from '../../adapters/slack/adapter.js';
import { SlackSender } from '../../adapters/slack/send.js';
import { startFakeSlack, type FakeAnswer, type FakeSlack } from '../fakes/slack-api.js';
import { silentLogger } from '../unit/helpers.js';

/** Long enough for the WebClient's streamer (256-character buffer) to start, append and stop. */
const REPLY = Array.from({ length: 220 }, (_, i) => `w${i}`).join('-');
const thread = { platform: 'slack', id: 'T1:C1:1700000000.000100', details: { team: 'T1', channel: 'C1', threadTs: '1700000000.000100', user: 'U1' } };
const words = (text: string) =>
  (async function* () {
    for (const word of text.split(/(?<=-)/)) yield word;
  })();

describe('a stream start whose answer was lost', () => {
  let slack: FakeSlack;
  beforeEach(async () => {
    slack = await startFakeSlack();
  });
  afterEach(async () => {
    await slack.close();
  });
  const sender = () => new SlackSender(new WebClient('xoxb-stream', webClientOptions(slack.url)), () => new MemoryStore(), () => silentLogger);
  const failFirstStart = (answer: FakeAnswer) => slack.on('chat.startStream', (_call, n) => (n === 0 ? answer : undefined));

  it.each<[string, FakeAnswer]>([
    ['internal_error after Slack took it', { takenAtOnce: true, body: { ok: false, error: 'internal_error' } }],
    ['a connection cut after Slack took it', { takenAtOnce: true, destroy: true }],
    ['a page that is not Slack\'s JSON after Slack took it', { takenAtOnce: true, raw: '<html>gateway</html>' }],
  ])('%s: the message it began is finished with the rest of the reply, nothing posted again', async (_name, answer) => {
    failFirstStart(answer);
    const delivery = await sender().stream(thread, words(REPLY), 'job-ls:1');
    const [started] = [...slack.streams.keys()];
    expect(slack.streams.size).toBe(1);
    expect(delivery.rest).toBeUndefined();
    expect(delivery.ids).toEqual([started]);
    expect(slack.streams.get(started!)).toEqual({ text: REPLY, streaming: false }); // whole, once, and stopped
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(slack.callsTo('chat.startStream')).toHaveLength(1);
    // The answer's end keeps the feedback buttons.
    expect(JSON.stringify(slack.callsTo('chat.stopStream').at(-1)!.args.blocks ?? null)).toContain('feedback');
  });

  it('a short reply whose start (made by the stop) Slack took unanswered: that message is finished with the whole reply', async () => {
    failFirstStart({ takenAtOnce: true, body: { ok: false, error: 'internal_error' } });
    const delivery = await sender().stream(thread, words('a short answer'), 'job-ss:1');
    const [started] = [...slack.streams.keys()];
    expect(delivery.rest).toBeUndefined();
    expect(slack.streams.get(started!)).toEqual({ text: 'a short answer', streaming: false });
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('a start Slack did not take: the reply is posted as before, and the earlier answer in the thread is not touched', async () => {
    const earlier = await sender().stream(thread, words(REPLY), 'job-e:1'); // a finished answer in the same thread
    slack.on('chat.startStream', (_call, n) => (n === 1 ? { body: { ok: false, error: 'internal_error' } } : undefined)); // not taken
    const stopsBefore = slack.callsTo('chat.stopStream').length;
    const delivery = await sender().stream(thread, words(REPLY), 'job-n:1');
    expect(delivery.rest).toBe(REPLY);
    expect(delivery.ids).toEqual([]);
    expect(slack.callsTo('chat.stopStream')).toHaveLength(stopsBefore);
    expect(slack.streams.get(earlier.ids[0]!)).toEqual({ text: REPLY, streaming: false });
  });

  it('two messages of the bot still streaming in the thread: it cannot tell which is this reply\'s, and touches neither', async () => {
    // An earlier reply whose stream no stop could end: Slack still shows it streaming.
    slack.on('chat.appendStream', () => ({ body: { ok: false, error: 'internal_error' } }));
    slack.on('chat.stopStream', (_call, n) => (n < 2 ? { body: { ok: false, error: 'internal_error' } } : undefined));
    const earlier = await sender().stream(thread, words(REPLY), 'job-u:1');
    expect(slack.streams.get(earlier.ids[0]!)!.streaming).toBe(true);
    slack.on('chat.startStream', (_call, n) => (n === 1 ? { takenAtOnce: true, body: { ok: false, error: 'internal_error' } } : undefined));
    const stopsBefore = slack.callsTo('chat.stopStream').length;
    const delivery = await sender().stream(thread, words(REPLY), 'job-v:1');
    expect(delivery.rest).toBe(REPLY);
    expect(slack.callsTo('chat.stopStream')).toHaveLength(stopsBefore);
  });

  it('a look Slack refuses (a missing scope): the reply is posted as before', async () => {
    failFirstStart({ takenAtOnce: true, body: { ok: false, error: 'internal_error' } });
    slack.on('conversations.replies', () => ({ body: { ok: false, error: 'missing_scope' } }));
    const delivery = await sender().stream(thread, words(REPLY), 'job-r:1');
    expect(delivery.rest).toBe(REPLY);
    expect(slack.callsTo('conversations.replies')).toHaveLength(1);
  });
});
