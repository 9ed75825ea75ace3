/**
 * A broken Slack stream whose finishing `chat.stopStream` fails, or is taken without an answer: the
 * message must not be left streaming, and the user must see the whole answer once. Slack is faked
 * over HTTP (the fake keeps what each streamed message shows, and refuses a stop of a stopped one).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlackSender } from '../../adapters/slack/send.js';
import { MemoryStore } from '../../src/index.js';
import { streamOnce } from '../../src/send-once.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { until } from '../helpers/until.js';
import { SLACK_THREAD, chunksOf, senderOn } from '../helpers/slack-stream.js';
import { silentLogger } from '../unit/helpers.js';

const conversation = SLACK_THREAD;
const words = (count: number) => Array.from({ length: count }, (_, i) => `w${i}`).join(' ');
const refused = { body: { ok: false, error: 'internal_error' } };

describe('a broken Slack stream whose stop fails', () => {
  let slack: FakeSlack;
  let store: MemoryStore;
  let sender: SlackSender;
  beforeEach(async () => {
    slack = await startFakeSlack();
    store = new MemoryStore();
    sender = senderOn(slack, store);
  });
  afterEach(() => slack.close());

  it('a rest longer than a stop takes (12,000 characters): stopped with as much as fits, the remainder left to post', async () => {
    const answer = words(3000); // ~17,000 characters
    slack.on('chat.appendStream', (_call, n) => (n === 0 ? refused : undefined));
    const delivery = await sender.stream(conversation, chunksOf(answer), 'job-long:1');
    const [message] = [...slack.streams.values()];
    expect(message!.streaming).toBe(false);
    expect(String(slack.callsTo('chat.stopStream')[0]!.args.markdown_text).length).toBeLessThanOrEqual(12_000);
    expect(delivery.rest).toBeTruthy();
    expect(message!.text + delivery.rest).toBe(answer);
  });

  it('a stop refused by Slack for now (429): the stop that finishes the message waits as Retry-After says', async () => {
    slack.on('chat.stopStream', (_call, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } } : undefined));
    const answer = words(300);
    const delivery = await sender.stream(conversation, chunksOf(answer), 'job-429:1');
    const [first, second] = slack.callsTo('chat.stopStream');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
    expect(delivery.rest).toBeUndefined();
    expect([...slack.streams.values()].map((m) => [m.text, m.streaming])).toEqual([[answer, false]]);
  });

  it('a stop with the rest that fails: the message is stopped with no text, and only the rest is left to post', async () => {
    slack.on('chat.appendStream', (_call, n) => (n === 0 ? refused : undefined));
    slack.on('chat.stopStream', (call) => (call.args.markdown_text ? refused : undefined));
    const answer = words(300);
    const delivery = await sender.stream(conversation, chunksOf(answer), 'job-500:1');
    const [message] = [...slack.streams.values()];
    expect(message!.streaming).toBe(false);
    expect(message!.text + delivery.rest).toBe(answer);
  });

  it('no stop works until the rest is posted: the message is stopped then, the rest posted once', async () => {
    slack.on('chat.appendStream', (_call, n) => (n === 0 ? refused : undefined));
    slack.on('chat.stopStream', (_call, n) => (n < 2 ? refused : undefined)); // with the rest, then with none
    const deps = { store, adapterFor: () => adapter, logger: silentLogger, metrics: { repliesSent: { inc() {} }, repliesFailed: { inc() {} } } } as never;
    const adapter = {
      platform: 'slack',
      maxChars: 3900,
      format: (text: string) => text,
      sendPart: (c: never, text: string, part: never) => sender.sendPart(c, text, part),
      stream: (c: never, chunks: AsyncIterable<string>, o?: { key?: string }) => sender.stream(c, chunks, o?.key),
    };
    const answer = words(300);
    expect(await streamOnce(deps, 'job-late', 1, conversation, chunksOf(answer))).toBe(answer);
    const [message] = [...slack.streams.values()];
    await until(() => (message!.streaming ? undefined : true), 'the message to be stopped');
    const posted = slack.callsTo('chat.postMessage').map((call) => String(call.args.text));
    expect(posted).toHaveLength(1);
    expect(message!.text + posted[0]!.replace(/^…/, '')).toBe(answer);
  });

  it('a stop with the rest that Slack took but whose answer was lost (connection cut): the rest is not posted again', async () => {
    slack.on('chat.stopStream', (_call, n) => (n === 0 ? { takenAtOnce: true, destroy: true } : undefined));
    const answer = words(300);
    const delivery = await sender.stream(conversation, chunksOf(answer), 'job-reset:1');
    expect(delivery.rest).toBeUndefined();
    expect([...slack.streams.values()].map((m) => [m.text, m.streaming])).toEqual([[answer, false]]);
  });

  it("a stop with the rest that Slack took but answered internal_error (it \"may have partly succeeded\"): the rest is not posted again", async () => {
    slack.on('chat.stopStream', (_call, n) => (n === 0 ? { takenAtOnce: true, ...refused } : undefined));
    const answer = words(300);
    const delivery = await sender.stream(conversation, chunksOf(answer), 'job-internal:1');
    expect(delivery.rest).toBeUndefined();
    expect([...slack.streams.values()].map((m) => [m.text, m.streaming])).toEqual([[answer, false]]);
  });

  it('a stop with the rest that Slack did not take, answered internal_error: stopped by the next stop, nothing lost', async () => {
    slack.on('chat.stopStream', (_call, n) => (n === 0 ? refused : undefined));
    const answer = words(300);
    const delivery = await sender.stream(conversation, chunksOf(answer), 'job-internal-untaken:1');
    const [message] = [...slack.streams.values()];
    expect(message!.streaming).toBe(false);
    expect(message!.text + (delivery.rest ?? '')).toBe(answer);
  });

  it('a message still streaming when the process gives up on its replies (past SHUTDOWN_TIMEOUT_MS) is stopped with what it shows; a finished one is not touched', async () => {
    const finished = await sender.stream({ ...conversation, details: { ...conversation.details, threadTs: '1700000000.000200' } }, chunksOf(words(50)), 'job-done:1');
    let release: () => void = () => undefined;
    const stalled = (async function* () {
      yield words(300); // past the streamer's buffer: shown at once
      await new Promise<void>((resolve) => (release = resolve)); // the model still thinking
    })();
    const streaming = sender.stream(conversation, stalled, 'job-stalled:1');
    const message = await until(() => [...slack.streams.entries()].find(([ts, m]) => ts !== finished.ids[0] && m.text.length > 0), 'the stalled message to show text');
    expect(message[1].streaming).toBe(true);
    await sender.stopOpenStreams();
    expect(slack.callsTo('chat.stopStream').map((call) => call.args.ts)).toEqual([finished.ids[0], message[0]]);
    expect(slack.streams.get(message[0])!.streaming).toBe(false);
    release();
    await streaming.catch(() => undefined);
  });

  it('a stream whose start Slack answers only after the process gave up on its replies is stopped as soon as it starts', async () => {
    slack.on('chat.startStream', () => ({ delayMs: 1000 }));
    let release: () => void = () => undefined;
    const stalled = (async function* () {
      yield words(300);
      await new Promise<void>((resolve) => (release = resolve));
    })();
    const streaming = sender.stream(conversation, stalled, 'job-late-start:1');
    await until(() => slack.callsTo('chat.startStream').length > 0, 'the start to be on its way');
    await sender.stopOpenStreams();
    await until(() => (slack.streams.size > 0 && [...slack.streams.values()].every((m) => !m.streaming) ? true : undefined), 'the late-started message to be stopped');
    release();
    await streaming.catch(() => undefined);
  });

  it('a stream asked for before the process gave up, still reading its crash marker from a slow store then, is stopped as it starts', async () => {
    const get = store.get.bind(store);
    store.get = async (key: string) => (await new Promise((resolve) => setTimeout(resolve, 500)), get(key)); // a slow store round trip
    let release: () => void = () => undefined;
    const stalled = (async function* () {
      yield words(300);
      await new Promise<void>((resolve) => (release = resolve));
    })();
    const streaming = sender.stream(conversation, stalled, 'job-slow-marker:1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await sender.stopOpenStreams(); // past SHUTDOWN_TIMEOUT_MS, while the stream still reads its marker
    const message = await until(() => [...slack.streams.entries()].find(([, m]) => m.text.length > 0), 'the message to show text');
    await until(() => (slack.streams.get(message[0])!.streaming ? undefined : true), 'the message to be stopped');
    release();
    await streaming.catch(() => undefined);
  });

  it('a stream started after the process gave up on its replies (the same adapter in a bot started again) streams as usual', async () => {
    await sender.stopOpenStreams();
    let release: () => void = () => undefined;
    const stalled = (async function* () {
      yield words(300);
      await new Promise<void>((resolve) => (release = resolve));
    })();
    const streaming = sender.stream(conversation, stalled, 'job-after-restart:1');
    const message = await until(() => [...slack.streams.entries()].find(([, m]) => m.text.length > 0), 'the new message to show text');
    await new Promise((resolve) => setTimeout(resolve, 200)); // time for a wrongful stop to land
    expect(slack.callsTo('chat.stopStream')).toEqual([]);
    expect(slack.streams.get(message[0])!.streaming).toBe(true);
    release();
    await streaming;
    expect(slack.streams.get(message[0])!.streaming).toBe(false);
    expect(slack.streams.get(message[0])!.text).toBe(words(300));
  });
});
