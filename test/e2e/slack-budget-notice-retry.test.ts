/**
 * A spent budget's notice on a retry, with SLACK_STREAMING=on, after an earlier run of the message
 * began streaming its answer: the text that showed stays where it is, no longer streaming (a killed
 * run's message is stopped first), and the notice follows it, as the apology does when a retry's AI
 * fails before any text; the message is not taken back, since nothing shown now replaces it. An
 * earlier run that had the whole answer (its rest not yet posted) is finished instead of the notice.
 * Real server; Slack and the AI faked over HTTP.
 */
import { WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { webClientOptions } from '../../adapters/slack/adapter.js';
import { MemoryQueue, MemoryStore, type JobData, type NewJob } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

const NOTICE = 'The AI budget is spent for today.';
/** Each answer of gpt-4o-mini costs more than this: the first (or its part that showed) spends the budget. */
const SPENT_AT_ONCE = { SLACK_STREAMING: 'on', OPENAI_MODEL: 'gpt-4o-mini', AI_BUDGET_USD_PER_DAY: '0.000001', AI_BUDGET_NOTICE: NOTICE };
/** Long enough that the WebClient's streamer (256-character buffer) has started before the AI breaks at 300. */
const FIRST = Array.from({ length: 120 }, (_, i) => `first${i}`).join(' ');

const posted = (slack: FakeSlack) => slack.callsTo('chat.postMessage').map((call) => call.args.text);

describe('a spent budget\'s notice on the retry of a message whose earlier run streamed part of its answer', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot | undefined;
  afterEach(async () => {
    await server?.close();
    await slack.close();
    await ai.close();
    server = undefined;
  });

  it('the AI broke off after its text showed: that text stays, stopped, and the notice follows it', async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi(() => ({ text: FIRST, breakAfterChars: 300 }));
    server = await startSlackBot(slack, ai, SPENT_AT_ONCE);
    await postSlack(server.url, appMention({ text: 'a long answer please' }));
    await until(() => (posted(slack).length ? true : undefined), 'the notice', 10_000);
    expect(posted(slack)).toEqual([NOTICE]);
    expect(ai.calls).toHaveLength(1); // the retry asks no AI: the cut answer's cost spent the budget
    const [first] = [...slack.streams.values()];
    expect(first!.streaming).toBe(false);
    expect(first!.text.length).toBeGreaterThan(0);
    expect(FIRST.startsWith(first!.text)).toBe(true);
    expect(slack.callsTo('chat.delete')).toHaveLength(0);
  });

  it('the earlier run had the whole answer, and Slack failed before its rest was posted: the retry posts that rest, not the notice', async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi(() => ({ text: FIRST }));
    // The stream breaks after it started (an append, then every stop refused): its rest is the core's to post, and that post fails once.
    slack.on('chat.appendStream', () => ({ body: { ok: false, error: 'streaming_failed' } }));
    slack.on('chat.stopStream', () => ({ body: { ok: false, error: 'streaming_failed' } }));
    slack.on('chat.postMessage', (_call, n) => (n === 0 ? { status: 500 } : undefined));
    // No cache: past the budget, a cached answer would be given instead of the notice (and finish the rest as any answer does).
    server = await startSlackBot(slack, ai, { ...SPENT_AT_ONCE, CACHE_TTL_SECONDS: '0' });
    await postSlack(server.url, appMention({ text: 'a long answer please' }));
    await until(() => (slack.callsTo('chat.postMessage').length > 1 ? true : undefined), 'the retry\'s post', 10_000);
    const [begun] = [...slack.streams.values()];
    const [failed, retried] = posted(slack).map(String);
    expect(FIRST.endsWith(failed!.replace(/^…/, ''))).toBe(true); // the rest, after what the stream showed
    expect(begun!.text.length + failed!.length).toBeGreaterThan(FIRST.length - 2);
    expect(retried).toBe(failed);
    expect(posted(slack)).toHaveLength(2);
    expect(ai.calls).toHaveLength(1);
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    expect(metrics).toMatch(/^parley_replies_sent_total\{[^}]*kind="answer"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^parley_replies_sent_total\{[^}]*kind="notice"[^}]*\} 0$/m); // its series at 0 from the start: none sent
    expect(metrics).not.toMatch(/kind="notice"[^}]*\} [1-9]/);
  });

  it('the earlier run was killed mid-stream: its message is stopped as it stands, then the notice is posted', async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    const store = new MemoryStore();
    const queue = new MemoryQueue<JobData>({ attempts: 3, backoffMs: 20, maxBackoffMs: 100 });
    // The second message arrives as a run killed mid-stream left it: its message streaming, and the note of it (send.ts).
    let killedTs: string | undefined;
    const add = queue.add.bind(queue);
    queue.add = async (job: NewJob<JobData>) => {
      if (job.data.type === 'message' && job.data.message.text.includes('second')) {
        const { channel, threadTs } = job.data.message.conversation.details as { channel: string; threadTs: string };
        const started = await new WebClient('xoxb-test-token', webClientOptions(slack.url)).chat.startStream({ channel, thread_ts: threadTs, markdown_text: 'the first run began to ans' });
        killedTs = String(started.ts);
        await store.set(`parley:slack:stream:${job.id}:1`, killedTs);
      }
      return add(job);
    };
    server = await startSlackBot(slack, ai, SPENT_AT_ONCE, undefined, { bot: { store, queue } });
    await postSlack(server.url, appMention({ text: 'first question' }));
    await until(() => slack.callsTo('chat.stopStream').length > 0 || undefined, 'the first answer');
    await postSlack(server.url, appMention({ text: 'second question' }));
    await until(() => (posted(slack).length ? true : undefined), 'the notice', 10_000);
    expect(posted(slack)).toEqual([NOTICE]);
    expect(slack.streams.get(killedTs!)).toEqual({ text: 'the first run began to ans', streaming: false });
    expect(slack.callsTo('chat.delete')).toHaveLength(0);
    // Stopped before the notice went out: the notice reads as the last word.
    const order = slack.calls.filter((call) => call.method === 'chat.postMessage' || (call.method === 'chat.stopStream' && call.args.ts === killedTs)).map((call) => call.method);
    expect(order).toEqual(['chat.stopStream', 'chat.postMessage']);
    expect(ai.calls).toHaveLength(1);
  });
});
