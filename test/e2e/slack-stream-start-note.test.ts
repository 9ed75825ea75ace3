/**
 * The stream note a run leaves while its start is out (`starting:<time>`, send.ts) makes its retry
 * look in the thread for the bot's one message still streaming, and take it back. A run that never
 * sent a start (its AI failed before any text, or it was killed while the AI was still thinking)
 * must leave no such note: its retry would take an earlier reply's message still streaming in the
 * thread (a broken stream no stop reached, its rest posted after it) for its own and delete it.
 * Slack is faked over HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebClient } from '@slack/web-api';
import { MemoryStore } from '../../src/index.js';
import { webClientOptions } from '../../adapters/slack/adapter.js';
import { SlackSender } from '../../adapters/slack/send.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { silentLogger } from '../unit/helpers.js';

/** Long enough for the WebClient's streamer (256-character buffer) to start, append and stop. */
const REPLY = Array.from({ length: 220 }, (_, i) => `w${i}`).join('-');
const thread = { platform: 'slack', id: 'T1:C1:1700000000.000100', details: { team: 'T1', channel: 'C1', threadTs: '1700000000.000100', user: 'U1' } };
const words = (text: string) =>
  (async function* () {
    for (const word of text.split(/(?<=-)/)) yield word;
  })();

describe("a retry whose earlier run sent no start, beside an earlier reply's message still streaming", () => {
  let slack: FakeSlack;
  let earlier: string;
  beforeEach(async () => {
    slack = await startFakeSlack();
    // The reply before this one: its stream broke and no stop reached Slack (its rest was posted after it).
    const started = await new WebClient('xoxb-stream', webClientOptions(slack.url)).chat.startStream({ channel: 'C1', thread_ts: thread.details.threadTs, markdown_text: 'the earlier answer, its start' });
    earlier = String(started.ts);
  });
  afterEach(async () => {
    await slack.close();
  });

  const store = new MemoryStore();
  const sender = () => new SlackSender(new WebClient('xoxb-stream', webClientOptions(slack.url)), () => store, () => silentLogger);
  const leftAlone = () => {
    expect(slack.callsTo('chat.delete')).toHaveLength(0);
    expect(slack.callsTo('chat.stopStream').filter((call) => call.args.ts === earlier)).toHaveLength(0);
    expect(slack.streams.get(earlier)).toEqual({ text: 'the earlier answer, its start', streaming: true });
  };

  it('the AI failed before any text: the retry streams its answer and leaves the earlier message alone', async () => {
    const failing = (async function* (): AsyncGenerator<string> {
      yield* [];
      throw new Error('the AI is down');
    })();
    await expect(sender().stream(thread, failing, 'job-an:1')).rejects.toThrow('the AI is down');
    expect(slack.callsTo('chat.startStream')).toHaveLength(1); // the earlier reply's only
    const delivery = await sender().stream(thread, words(REPLY), 'job-an:1');
    expect(delivery.rest).toBeUndefined();
    expect(slack.streams.get(delivery.ids[0]!)).toEqual({ text: REPLY, streaming: false });
    leftAlone();
  });

  it('killed while the AI was still thinking (no start sent): the retry leaves the earlier message alone', async () => {
    const thinking = (async function* (): AsyncGenerator<string> {
      await new Promise(() => undefined); // never answers: the process is "killed" now
      yield '';
    })();
    void sender().stream(thread, thinking, 'job-kt:1');
    await new Promise((resolve) => setTimeout(resolve, 50)); // its crash check and whatever it writes first
    // Another process (the same store) runs the job again.
    const delivery = await sender().stream(thread, words(REPLY), 'job-kt:1');
    expect(delivery.rest).toBeUndefined();
    leftAlone();
  });
});

describe('a retry that cannot look in the thread for the message its killed run began (Slack failing for a moment)', () => {
  it('keeps the note and fails, to look again later; the retry after takes the message back and streams the answer once', async () => {
    const slack = await startFakeSlack();
    try {
      const store = new MemoryStore();
      const sender = () => new SlackSender(new WebClient('xoxb-stream', webClientOptions(slack.url)), () => store, () => silentLogger);
      // The first start takes effect at once, and its answer never comes: the process is "killed" waiting for it.
      slack.on('chat.startStream', (_call, n) => (n === 0 ? { takenAtOnce: true, delayMs: 60_000 } : undefined));
      void sender().stream(thread, words(REPLY), 'job-lf:1');
      while (slack.callsTo('chat.startStream').length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const [begun] = [...slack.streams.keys()];
      slack.on('conversations.replies', (_call, n) => (n === 0 ? { status: 500 } : undefined));
      await expect(sender().stream(thread, words(REPLY), 'job-lf:1')).rejects.toThrow();
      expect(slack.callsTo('chat.startStream')).toHaveLength(1); // nothing streamed beside the begun message
      const delivery = await sender().stream(thread, words(REPLY), 'job-lf:1');
      expect(slack.callsTo('chat.delete').map((call) => call.args.ts)).toEqual([begun]);
      expect(slack.streams.get(delivery.ids[0]!)).toEqual({ text: REPLY, streaming: false });
    } finally {
      await slack.close();
    }
  });
});
