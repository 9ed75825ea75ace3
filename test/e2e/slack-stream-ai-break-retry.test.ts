/**
 * An AI that breaks off after its text showed in a Slack stream (a socket cut, a 5xx or malformed
 * SSE mid-way), when asking it again succeeds in time (issue 9: an answer, not an apology, when the
 * provider recovers): the broken stream's message is stopped, then taken back (chat.delete) as the
 * retry's answer begins, and the user is left with one whole answer — the second — and no apology.
 * When no try succeeds, the last try's partial text stays, stopped, with one apology. Slack and the
 * AI are faked over HTTP.
 */
import { describe, expect, it } from 'vitest';
import type { ScriptedAnswer } from '../fakes/openai-server.js';
import type { FakeSlack } from '../fakes/slack-api.js';
import { slackWorldPerTest, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

/** Long enough that the WebClient's streamer (256-character buffer) has started before the AI breaks at 300. */
const FIRST = Array.from({ length: 120 }, (_, i) => `first${i}`).join(' ');
const SECOND = Array.from({ length: 120 }, (_, i) => `second${i}`).join(' ');

/** FIRST's first 400 characters as stream events, then `last`: what a server that breaks off mid-answer sends. */
const brokenEvents = (last: string): ScriptedAnswer => ({
  events: [...(FIRST.slice(0, 400).match(/.{1,40}/gs) ?? []).map((content) => JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })), last],
});

/** The streamed messages the user still sees (not deleted), by ts. */
const visible = (slack: FakeSlack) => {
  const deleted = new Set(slack.callsTo('chat.delete').map((call) => String(call.args.ts)));
  return [...slack.streams].filter(([ts]) => !deleted.has(ts)).map(([, stream]) => stream);
};

/** One series' value as Prometheus scrapes it from /metrics (0 when it has not appeared). */
async function scraped(server: SlackBot, series: string): Promise<number> {
  const text = await (await fetch(`${server.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('Slack streaming: the AI breaks off after its text showed', () => {
  const start = slackWorldPerTest();

  it.each<[string, ScriptedAnswer]>([
    ['a connection cut', { text: FIRST, breakAfterChars: 300 }],
    ['an error event (a 5xx mid-answer)', brokenEvents(JSON.stringify({ error: { message: 'the model crashed', type: 'server_error', code: 500 } }))],
    ['a malformed event', brokenEvents('{"id": "c1", "choices": [')],
  ])('%s, then asked again and answered in time: one message, the whole second answer, stopped; no apology; the cache holds the whole answer', async (_name, broken) => {
    const { slack, ai, server } = await start({ env: { SLACK_STREAMING: 'on' }, ai: (_call, n) => (n === 0 ? broken : { text: SECOND }) });
    await postSlack(server.url, appMention({ text: 'a long answer please' }));
    await until(async () => (await scraped(server, 'parley_replies_sent_total{platform="slack",kind="answer"}')) === 1, 'the answer', 10_000);
    // The first try's text did show before it broke off, and its message was stopped, then taken back.
    const [first] = [...slack.streams.values()];
    expect(first!.text.length).toBeGreaterThan(0);
    expect(FIRST.startsWith(first!.text)).toBe(true);
    expect(first!.streaming).toBe(false);
    expect(visible(slack)).toEqual([{ text: SECOND, streaming: false }]);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0); // no apology, nothing posted twice
    expect(ai.calls).toHaveLength(2);
    expect(await scraped(server, 'parley_dead_lettered_total{platform="slack",reason="attempts_exhausted"}')).toBe(0);
    expect(await scraped(server, 'parley_replies_failed_total{platform="slack"}')).toBe(0);
    // The same question in another thread is answered from the cache: the whole second answer, not the broken first.
    await postSlack(server.url, appMention({ text: 'a long answer please' }));
    await until(async () => (await scraped(server, 'parley_replies_sent_total{platform="slack",kind="answer"}')) === 2, 'the cached answer', 10_000);
    expect(ai.calls).toHaveLength(2);
    expect(visible(slack)).toEqual([
      { text: SECOND, streaming: false },
      { text: SECOND, streaming: false },
    ]);
  });

  it('never answered whole (every try breaks off): the last try\'s text stays, stopped, with one apology', async () => {
    const { slack, ai, server } = await start({ env: { SLACK_STREAMING: 'on', CACHE_TTL_SECONDS: '0' }, ai: () => ({ text: FIRST, breakAfterChars: 300 }) });
    await postSlack(server.url, appMention({ text: 'a long answer please' }));
    await until(async () => (await scraped(server, 'parley_replies_sent_total{platform="slack",kind="apology"}')) === 1, 'the apology', 10_000);
    expect(ai.calls).toHaveLength(3); // JOB_ATTEMPTS
    const shown = visible(slack);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.streaming).toBe(false);
    expect(shown[0]!.text.length).toBeGreaterThan(0);
    expect(FIRST.startsWith(shown[0]!.text)).toBe(true);
    const posted = slack.callsTo('chat.postMessage');
    expect(posted).toHaveLength(1);
    expect(String(posted[0]!.args.text)).toContain('Sorry');
    expect([...slack.streams.values()].filter((stream) => stream.streaming)).toHaveLength(0);
    expect(await scraped(server, 'parley_replies_failed_total{platform="slack"}')).toBe(0);
  });
});
