/**
 * chat.postMessage that Slack takes but answers too late (past the Web API timeout): the post
 * failed as far as parley can tell, yet the message is there. Slack takes no idempotency key, so
 * each part is posted with its key as message metadata; after such a timeout the part is marked
 * "maybe posted", and the retry looks for it in the thread before posting. The user sees it once.
 * Slack faked over HTTP; the WebClient's timeout shortened to keep the test quick.
 */
import { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { webClientOptions } from '../../adapters/slack/adapter.js';
import { MAX_MESSAGE_CHARS, SlackSender } from '../../adapters/slack/send.js';
import { MaybePostedError, MemoryStore, type Adapter } from '../../src/index.js';
import { postReply } from '../../src/replies.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { silentLogger } from '../unit/helpers.js';

const conversation = { platform: 'slack', id: 'T1:C1:1700000000.000100', details: { team: 'T1', channel: 'C1', threadTs: '1700000000.000100', user: 'U1' } };

/** How late Slack answers the first post: long past the WebClient's timeout. */
const LATE_MS = 10_000;

describe('a reply part Slack answers too late', () => {
  let slack: FakeSlack;
  let adapter: Adapter;
  let store: MemoryStore;
  beforeEach(async () => {
    slack = await startFakeSlack();
    store = new MemoryStore();
    // Only the first post (the one Slack answers late, LATE_MS) runs on the short timeout, long enough
    // for it to reach Slack on a loaded machine (300 ms was not, once); every call after it has room,
    // so a slow answer to a retry is not taken for another timeout.
    const impatient = new SlackSender(new WebClient('xoxb-timeout', { ...webClientOptions(slack.url), timeout: 1_500 }), () => store, () => silentLogger);
    const patient = new SlackSender(new WebClient('xoxb-timeout', { ...webClientOptions(slack.url), timeout: 10_000 }), () => store, () => silentLogger);
    const sender = () => (slack.callsTo('chat.postMessage').length === 0 ? impatient : patient);
    adapter = {
      platform: 'slack',
      path: '/slack/events',
      contentTypes: ['application/json'],
      maxChars: MAX_MESSAGE_CHARS,
      receive: () => Promise.reject(new Error('not used')),
      sendPart: (c, text, part) => sender().sendPart(c as never, text, part),
      findPart: (c, part, since) => patient.findPart(c as never, part, since),
    };
  });
  afterEach(() => slack.close());

  const post = () => postReply(adapter, conversation, { text: 'the answer', kind: 'answer' }, { key: 'job-7:1', markers: store, logger: silentLogger });
  const postedInThread = () => slack.callsTo('conversations.replies').length;

  it('taken by Slack: the retry finds it in the thread and posts nothing', async () => {
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { delayMs: LATE_MS, takenAtOnce: true } : undefined));
    await expect(post()).rejects.toBeInstanceOf(MaybePostedError);
    const again = await post();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(postedInThread()).toBe(1); // it looked
    expect(again.ids).toHaveLength(1);
    // On record now: a third run neither looks nor posts.
    await post();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(postedInThread()).toBe(1);
  });

  it('taken, and the retry brings another answer (the AI asked again): the first one is finished, not mixed with the second', async () => {
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { delayMs: LATE_MS, takenAtOnce: true } : undefined));
    const reply = (text: string) => postReply(adapter, conversation, { text, kind: 'answer' }, { key: 'job-8:1', markers: store, logger: silentLogger });
    await expect(reply('FIRST short answer')).rejects.toBeInstanceOf(MaybePostedError);
    const second = `SECOND ${'lorem ipsum dolor sit amet. '.repeat(Math.ceil((1.5 * MAX_MESSAGE_CHARS) / 28))}`;
    const again = await reply(second);
    expect(slack.callsTo('chat.postMessage').map((call) => String(call.args.text).slice(0, 20))).toEqual(['FIRST short answer']);
    expect(again.finished).toBe('FIRST short answer'); // what the history records: what the user saw
  });

  it('taken, and looking fails for now (a 503): the retry fails too, and the next one finds it: still posted once', async () => {
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { delayMs: LATE_MS, takenAtOnce: true } : undefined));
    slack.on('conversations.replies', (_call, n) => (n === 0 ? { status: 503 } : undefined));
    await expect(post()).rejects.toBeInstanceOf(MaybePostedError);
    await expect(post()).rejects.toThrow();
    await post();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(postedInThread()).toBe(2);
  });

  it('not taken: the retry looks, finds nothing and posts it once', async () => {
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { delayMs: LATE_MS } : undefined));
    await expect(post()).rejects.toBeInstanceOf(MaybePostedError);
    await post();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
    expect(postedInThread()).toBe(1);
    expect(slack.callsTo('chat.postMessage')[1]!.args.metadata).toEqual({ event_type: 'parley_reply_part', event_payload: { part: 'job-7:1:0' } });
  });

  it('taken in a busy channel (outside a thread, 250 messages after it before the retry): found pages deep, not posted again', async () => {
    const inChannel = { platform: 'slack', id: 'T1:C2', details: { team: 'T1', channel: 'C2', user: 'U1' } };
    const reply = () => postReply(adapter, inChannel, { text: 'the answer', kind: 'answer' }, { key: 'job-9:1', markers: store, logger: silentLogger });
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { delayMs: LATE_MS, takenAtOnce: true } : undefined));
    await expect(reply()).rejects.toBeInstanceOf(MaybePostedError);
    // Others keep talking in the channel meanwhile (history reads newest first, 100 a page).
    const others = new WebClient('xoxb-others', webClientOptions(slack.url));
    for (let n = 0; n < 250; n++) await others.chat.postMessage({ channel: 'C2', text: `chatter ${n}` });
    await reply();
    expect(slack.callsTo('chat.postMessage').filter((call) => call.args.text === 'the answer')).toHaveLength(1);
    expect(slack.callsTo('conversations.history')).toHaveLength(3);
  });

  it('an answer that says it failed (a 500) is no "maybe": the retry posts without looking', async () => {
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { status: 500 } : undefined));
    await expect(post()).rejects.not.toBeInstanceOf(MaybePostedError);
    await post();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(2);
    expect(postedInThread()).toBe(0);
  });
});
