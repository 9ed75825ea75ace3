/**
 * A Slack stream whose message is deleted while it streams (a person, a moderator or a retention
 * rule removed it): Slack answers `message_not_found` to the next append or stop. What the message
 * showed went with it, so the user must get the whole answer, not only its tail.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlackSender } from '../../adapters/slack/send.js';
import { MemoryStore } from '../../src/index.js';
import { streamOnce } from '../../src/send-once.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { SLACK_THREAD, chunksOf, senderOn } from '../helpers/slack-stream.js';
import { silentLogger } from '../unit/helpers.js';

const conversation = SLACK_THREAD;
const answer = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');
const gone = { body: { ok: false, error: 'message_not_found' } };

describe('a Slack stream whose message was deleted mid-way', () => {
  let slack: FakeSlack;
  let store: MemoryStore;
  let sender: SlackSender;
  beforeEach(async () => {
    slack = await startFakeSlack();
    store = new MemoryStore();
    sender = senderOn(slack, store);
  });
  afterEach(() => slack.close());

  const posted = async (job: string) => {
    const adapter = {
      platform: 'slack',
      maxChars: 3900,
      format: (text: string) => text,
      sendPart: (c: never, text: string, part: never) => sender.sendPart(c, text, part),
      stream: (c: never, chunks: AsyncIterable<string>, o?: { key?: string }) => sender.stream(c, chunks, o?.key),
    };
    const deps = { store, adapterFor: () => adapter, logger: silentLogger, metrics: { repliesSent: { inc() {} }, repliesFailed: { inc() {} } } } as never;
    expect(await streamOnce(deps, job, 1, conversation, chunksOf(answer))).toBe(answer);
    return slack.callsTo('chat.postMessage').map((call) => String(call.args.text));
  };

  it('an append answered message_not_found: the whole answer is posted as a message', async () => {
    slack.on('chat.appendStream', (_call, n) => (n >= 1 ? gone : undefined)); // the first append started it
    slack.on('chat.stopStream', () => gone);
    expect(slack.callsTo('chat.startStream')).toHaveLength(0);
    expect((await posted('job-gone')).join('')).toBe(answer);
    expect(slack.callsTo('chat.startStream')).toHaveLength(1);
  });

  it('the stop answered message_not_found: the whole answer is posted as a message', async () => {
    slack.on('chat.stopStream', () => gone);
    expect((await posted('job-gone-stop')).join('')).toBe(answer);
  });
});
