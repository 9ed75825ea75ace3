/**
 * A Slack stream that fails after it started (issue 9, item 6): the user must see the whole reply
 * once, never the part already streamed a second time. Slack and the AI are faked over HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../fakes/slack-api.js';
import { appMention, directMessage, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';
import { startSlackBot } from '../helpers/slack-bot.js';
import { MemoryStore, type Store } from '../../src/index.js';
import { wellFormed } from '../../src/text/index.js';
import { streamOnce } from '../../src/send-once.js';
import { SLACK_THREAD, dyingAfter, senderOn, startedNote } from '../helpers/slack-stream.js';
import { silentLogger } from '../unit/helpers.js';

/** Long enough for the WebClient's streamer (256-character buffer) to start, append and stop; no markdown in it. */
const REPLY = Array.from({ length: 220 }, (_, i) => `w${i}`).join('-');

/** The text a stream call carried: markdown_text, or markdown_text chunks. */
const textOf = (call: SlackCall) =>
  String(call.args.markdown_text ?? '') + ((call.args.chunks as { text?: string }[] | undefined) ?? []).map((chunk) => chunk.text ?? '').join('');

describe('a Slack stream that fails after it started', () => {
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

  const accepted = (method: string) => slack.callsTo(method).filter((_, n) => !failed.has(`${method}#${n}`));
  const failed = new Set<string>();
  const failOn = (method: string, which: (n: number) => boolean) =>
    slack.on(method, (_call, n) => {
      if (!which(n)) return undefined;
      failed.add(`${method}#${n}`);
      return { body: { ok: false, error: 'internal_error' } };
    });

  it('streams an emoji the AI cut between two chunks whole, in one call, once', async () => {
    failed.clear();
    // The fake AI streams six UTF-16 code units a chunk: the emoji's halves land in two chunks, the
    // first of them the one that fills the WebClient's 256-character buffer. Sent as they came, each
    // half would go to Slack in its own call, shown as two U+FFFD.
    const text = `${'x'.repeat(252)}abcde\u{1F600} and the rest`;
    const asked = ai.calls.length;
    ai.script(() => ({ text }));
    await postSlack(url, appMention({ text: 'an emoji please' }));
    await until(() => accepted('chat.stopStream')[0], 'the stream to be finished');
    const calls = [...accepted('chat.startStream'), ...accepted('chat.appendStream'), ...accepted('chat.stopStream')].map(textOf);
    expect(calls.join('')).toBe(text);
    expect(calls.filter((sent) => sent !== wellFormed(sent))).toEqual([]);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(ai.calls.length - asked).toBe(1);
  });

  it('finishes the started message with the rest of the text (chat.stopStream)', async () => {
    failed.clear();
    failOn('chat.appendStream', () => true);
    await postSlack(url, appMention({ text: 'a long answer please' }));
    await until(() => accepted('chat.stopStream')[0], 'the stream to be finished');
    expect(slack.callsTo('chat.appendStream').length).toBeGreaterThan(0); // the failure did happen mid-way
    const shown = [...accepted('chat.startStream'), ...accepted('chat.appendStream'), ...accepted('chat.stopStream')].map(textOf).join('');
    expect(shown).toBe(REPLY);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    // The whole answer is there: its message keeps the feedback buttons, as an unbroken stream's does.
    expect(JSON.stringify(accepted('chat.stopStream')[0]!.args.blocks ?? null)).toContain('feedback');
  });

  it('posts only the text not shown yet when the stream cannot be finished either', async () => {
    failed.clear();
    failOn('chat.appendStream', () => true);
    failOn('chat.stopStream', () => true);
    await postSlack(url, appMention({ text: 'a long answer please' }));
    const [post] = await until(() => (slack.callsTo('chat.postMessage').length ? slack.callsTo('chat.postMessage') : undefined), 'the rest of the reply');
    const streamed = accepted('chat.startStream').map(textOf).join('');
    expect(streamed.length).toBeGreaterThan(0);
    // The rest reads as a continuation: a word the cut split is marked with an ellipsis.
    expect(streamed + String(post!.args.text).replace(/^…/, '')).toBe(REPLY);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for a repeat to show up
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('a stream that could not be finished, whose rest could not be posted either: the retry posts that rest, and the user has the whole answer once', async () => {
    failed.clear();
    failOn('chat.appendStream', (n) => n === 0);
    failOn('chat.stopStream', (n) => n === 0);
    failOn('chat.postMessage', (n) => n === 0);
    await postSlack(url, appMention({ text: 'a long answer please' }));
    const [rest] = await until(() => (accepted('chat.postMessage').length ? accepted('chat.postMessage') : undefined), 'the retry to post the rest');
    const streamed = accepted('chat.startStream').map(textOf).join('');
    expect(streamed.length).toBeGreaterThan(0);
    expect(streamed + String(rest!.args.text).replace(/^…/, '')).toBe(REPLY);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for a repeat to show up
    // the start the user sees stays; nothing is streamed or posted again
    expect(slack.callsTo('chat.delete')).toHaveLength(0);
    expect(slack.callsTo('chat.startStream')).toHaveLength(1);
    expect(accepted('chat.postMessage')).toHaveLength(1);
  });

  it('… and when the rest is two messages and only the first went out: the retry posts the second, nothing is taken back', async () => {
    failed.clear();
    const long = Array.from({ length: 1200 }, (_, i) => `w${i}`).join('-'); // the rest takes two Slack messages
    ai.script(() => ({ text: long }));
    failOn('chat.appendStream', (n) => n === 0);
    failOn('chat.stopStream', (n) => n === 0);
    failOn('chat.postMessage', (n) => n === 1);
    failOn('chat.startStream', (n) => n === 1); // were the retry to stream again, Slack would refuse it
    await postSlack(url, appMention({ text: 'a very long answer please' }));
    await until(() => (accepted('chat.postMessage').length === 2 ? true : undefined), 'the retry to post the second message');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const shown = [accepted('chat.startStream').map(textOf).join(''), ...accepted('chat.postMessage').map((call) => String(call.args.text))].join('');
    expect(shown.replace(/…/g, '')).toBe(long);
    expect(slack.callsTo('chat.delete')).toHaveLength(0);
    expect(slack.callsTo('chat.startStream')).toHaveLength(1);
  });

  it('a stream that never started, whose rest of two messages went out only in part: the retry posts the missing one, streams nothing', async () => {
    failed.clear();
    const long = Array.from({ length: 1200 }, (_, i) => `w${i}`).join('-'); // two Slack messages
    ai.script(() => ({ text: long }));
    failOn('chat.startStream', (n) => n === 0);
    failOn('chat.postMessage', (n) => n === 1);
    await postSlack(url, appMention({ text: 'a very long answer please' }));
    await until(() => (accepted('chat.postMessage').length === 2 ? true : undefined), 'the retry to post the missing message');
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for a second stream to show up
    const shown = [...accepted('chat.startStream'), ...accepted('chat.appendStream'), ...accepted('chat.stopStream')].map(textOf).join('') + accepted('chat.postMessage').map((call) => String(call.args.text)).join('');
    expect(shown.replace(/…/g, '')).toBe(long);
    expect(accepted('chat.startStream')).toHaveLength(0);
  });

  it('finishes the started message when the AI fails mid-way and its retry fails before any text: the text stays, one apology, nothing streamed again', async () => {
    failed.clear();
    const half = Math.floor(REPLY.length / 2);
    // Asked again (the retry would take the broken message back as its answer began), the AI refuses at once.
    ai.script((_call, n) => (n === 0 ? { text: REPLY, breakAfterChars: half } : { status: 400 }));
    await postSlack(url, appMention({ text: 'a long answer please' }));
    const [apology] = await until(() => (slack.callsTo('chat.postMessage').length ? slack.callsTo('chat.postMessage') : undefined), 'the apology');
    expect(String(apology!.args.text)).toContain('Sorry');
    await until(() => accepted('chat.stopStream')[0], 'the started stream to be finished');
    const shown = [...accepted('chat.startStream'), ...accepted('chat.appendStream'), ...accepted('chat.stopStream')].map(textOf).join('');
    expect(shown.length).toBeGreaterThan(0);
    expect(REPLY.startsWith(shown)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for a retry to show up
    expect(slack.callsTo('chat.startStream')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.callsTo('chat.delete')).toHaveLength(0); // what showed is left with the apology
    expect(ai.calls).toHaveLength(2);
  });

  it('a DM outside a thread (nothing to stream in: collected) whose AI stream breaks: asked again, the whole answer once, no apology', async () => {
    failed.clear();
    ai.script((_call, n) => (n === 0 ? { text: REPLY, breakAfterChars: 100 } : { text: REPLY }));
    await postSlack(url, directMessage({ text: 'hello there' }));
    const [answer] = await until(() => (slack.callsTo('chat.postMessage').length ? slack.callsTo('chat.postMessage') : undefined), 'the answer', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for an apology
    expect(String(answer!.args.text)).not.toContain('Sorry');
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(ai.calls).toHaveLength(2);
  });

  it('asks the AI again when it fails before any of its text reached Slack (the streamer was still buffering): the whole answer once, no apology', async () => {
    failed.clear();
    ai.script((_call, n) => (n === 0 ? { text: REPLY, breakAfterChars: 100 } : { text: REPLY }));
    await postSlack(url, appMention({ text: 'an answer cut early' }));
    await until(() => accepted('chat.stopStream')[0], 'the answer streamed to its end', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for an apology or a second stream
    const shown = [...accepted('chat.startStream'), ...accepted('chat.appendStream'), ...accepted('chat.stopStream')].map(textOf).join('');
    expect(shown).toBe(REPLY);
    expect(slack.callsTo('chat.startStream')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(ai.calls).toHaveLength(2);
  });
});

describe('a Slack stream whose thread cannot be remembered after it stopped', () => {
  it('keeps the whole reply as streamed: nothing is stopped again or posted twice', async () => {
    const slack = await startFakeSlack();
    try {
      // The store is down for writes (the thread marker) after the stream has stopped.
      const store: Store = Object.assign(new MemoryStore(), { set: () => Promise.reject(new Error('store unreachable')) });
      const sender = senderOn(slack, store);
      const chunks = (async function* () {
        for (const word of REPLY.split('-')) yield `${word}-`;
      })();
      const delivery = await sender.stream({ platform: 'slack', id: 'T1:C1:1700000000.000100', details: { team: 'T1', channel: 'C1', threadTs: '1700000000.000100', user: 'U1' } }, chunks, 'job-1:1');
      expect(delivery.rest).toBeUndefined();
      expect(slack.callsTo('chat.stopStream')).toHaveLength(1);
      expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    } finally {
      await slack.close();
    }
  });
});

describe('a Slack stream whose process was killed mid-way (kill -9: nothing finished it)', () => {
  it('takes the half-streamed message back when the job runs again: the user is left with one whole answer', async () => {
    const slack = await startFakeSlack();
    try {
      const store = new MemoryStore();
      const sender = senderOn(slack, store);
      const conversation = SLACK_THREAD;
      // The first run shows some of the answer, then its process dies: its chunks never end.
      const dying = dyingAfter(REPLY.split('-').slice(0, 120));
      void sender.stream(conversation, dying, 'job-9:1');
      const first = await until(() => slack.callsTo('chat.startStream')[0], 'the first run to start streaming');
      // The note says "starting:…" while the start is out, then the started message's ts.
      const startedTs = () => startedNote(store, 'job-9:1');
      const firstTs = await until(startedTs, 'the note of the started stream');
      expect(first).toBeDefined();
      // The job runs again in another process (the same store), and streams the whole answer.
      const whole = (async function* () {
        for (const word of REPLY.split('-')) yield `${word}-`;
      })();
      const delivery = await sender.stream(conversation, whole, 'job-9:1');
      expect(delivery.rest).toBeUndefined();
      expect(slack.callsTo('chat.delete').map((call) => call.args.ts)).toEqual([firstTs]);
      expect(slack.callsTo('chat.startStream')).toHaveLength(2);
      const stops = slack.callsTo('chat.stopStream');
      expect(stops.map((call) => call.args.ts)).toContain(firstTs); // out of its streaming state first
      expect(delivery.ids[0]).not.toBe(firstTs);
    } finally {
      await slack.close();
    }
  });
});

describe('a Slack stream whose process was killed while its start was out (Slack began the message; no answer came back)', () => {
  it('the retry finds the message the start began, takes it back, and streams the whole answer once', async () => {
    const slack = await startFakeSlack();
    try {
      const store = new MemoryStore();
      const sender = senderOn(slack, store);
      const conversation = SLACK_THREAD;
      // The first start takes effect at once, and its answer never comes: the process is "killed" waiting for it.
      slack.on('chat.startStream', (_call, n) => (n === 0 ? { takenAtOnce: true, delayMs: 60_000 } : undefined));
      const words = () => (async function* () { for (const word of REPLY.split('-')) yield `${word}-`; })();
      void sender.stream(conversation, words(), 'job-7:1');
      await until(() => slack.callsTo('chat.startStream')[0], 'the first run to send its start');
      // Another process (the same store) runs the job again.
      const delivery = await sender.stream(conversation, words(), 'job-7:1');
      expect(delivery.rest).toBeUndefined();
      const deleted = slack.callsTo('chat.delete').map((call) => call.args.ts);
      expect(deleted).toHaveLength(1);
      expect(deleted[0]).not.toBe(delivery.ids[0]);
      expect(slack.callsTo('chat.startStream')).toHaveLength(2);
      expect(await store.get('parley:slack:stream:job-7:1')).toBeUndefined();
    } finally {
      await slack.close();
    }
  });
});

describe('a Slack stream whose process was killed just after the stream broke (its rest not yet kept)', () => {
  it('the retry takes the half-shown message back and streams the whole answer once', async () => {
    const slack = await startFakeSlack();
    try {
      const store = new MemoryStore();
      const sender = senderOn(slack, store);
      const adapter = { platform: 'slack', stream: (c: never, chunks: AsyncIterable<string>, o?: { key?: string }) => sender.stream(c, chunks, o?.key) };
      const deps = { store, adapterFor: () => adapter, logger: silentLogger, metrics: { repliesSent: { inc() {} }, repliesFailed: { inc() {} } } } as never;
      const conversation = SLACK_THREAD;
      const words = () => (async function* () { for (const word of REPLY.split('-')) yield `${word}-`; })();
      slack.on('chat.appendStream', (_call, n) => (n === 0 ? { body: { ok: false, error: 'internal_error' } } : undefined));
      slack.on('chat.stopStream', (_call, n) => (n === 0 ? { body: { ok: false, error: 'internal_error' } } : undefined));
      // The first run: the stream breaks and comes back with a rest; the process dies before anything else.
      const first = await sender.stream(conversation as never, words(), 'job-k:1');
      expect(first.rest).toBeTruthy();
      // The job runs again (the same store).
      expect(await streamOnce(deps, 'job-k', 1, conversation, words())).toBe(`${REPLY}-`);
      expect(slack.callsTo('chat.delete').map((call) => call.args.ts)).toEqual(first.ids);
      expect(slack.callsTo('chat.startStream')).toHaveLength(2);
    } finally {
      await slack.close();
    }
  });
});

describe('a Slack stream that broke, whose rest is posted by a retry whose own AI call fails (no cache)', () => {
  it('the rest still reaches the user, and no apology follows the answer', async () => {
    const slack = await startFakeSlack();
    const ai = await startFakeOpenAi((_call, n) => (n === 0 ? { text: REPLY } : { status: 400 }));
    const { bot, url } = await startSlackBot(slack, ai, { SLACK_BOT_TOKEN: 'xoxb-stream', SLACK_STREAMING: 'on', CACHE_TTL_SECONDS: '0' });
    try {
      const fail = { body: { ok: false, error: 'internal_error' } };
      slack.on('chat.appendStream', (_call, n) => (n === 0 ? fail : undefined));
      slack.on('chat.stopStream', (_call, n) => (n === 0 ? fail : undefined));
      slack.on('chat.postMessage', (_call, n) => (n === 0 ? fail : undefined));
      await postSlack(url, appMention({ text: 'a long answer please' }));
      const [, rest] = await until(() => (slack.callsTo('chat.postMessage').length >= 2 ? slack.callsTo('chat.postMessage') : undefined), 'the rest');
      const streamed = slack.callsTo('chat.startStream').map(textOf).join('');
      expect(streamed + String(rest!.args.text).replace(/^…/, '')).toBe(REPLY);
      await new Promise((resolve) => setTimeout(resolve, 500)); // room for an apology to show up
      expect(slack.callsTo('chat.postMessage').map((call) => String(call.args.text)).some((text) => text.includes('Sorry'))).toBe(false);
    } finally {
      await bot.close();
      await slack.close();
      await ai.close();
    }
  });
});
