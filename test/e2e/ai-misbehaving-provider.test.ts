/**
 * A misbehaving OpenAI-compatible server, end to end (a real server; Slack and the AI faked over
 * HTTP): what the user sees is one answer, once, never an apology for an answer the provider did
 * give, and the metrics stay sane.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { slackWorldPerTest } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

const absurdUsage = { prompt_tokens: -1_000_000, completion_tokens: -5, total_tokens: -1_000_005 };

describe('usage a provider gets wrong, end to end', () => {
  let ai: FakeOpenAi | undefined;
  let web: WebBot | undefined;
  afterEach(async () => {
    await web?.close();
    await ai?.close();
    web = ai = undefined;
  });

  it('web chat: an answer with negative token counts is shown, not replaced by an apology; the cost metric stays 0', async () => {
    ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call)}`, usage: absurdUsage }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_MODEL: 'gpt-4o-mini' });
    await web.post('neg-usage', 'what does it cost?');
    const entries = await web.waitFor('neg-usage', (e) => assistantReplies(e).length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more arrives
    expect(assistantReplies(await web.transcript('neg-usage')).map((e) => [e.kind, e.text])).toEqual([['answer', 'echo: what does it cost?']]);
    expect(assistantReplies(entries)).toHaveLength(1);
    expect(ai.calls).toHaveLength(1);
    expect(await web.bot.deadLetters.list()).toEqual([]);
    const metrics = await (await fetch(`${web.url}/metrics`)).text();
    expect(metrics).toMatch(/parley_ai_cost_usd_total\{model="gpt-4o-mini"\} 0\n/);
    expect(metrics).toMatch(/parley_ai_tokens_total\{model="gpt-4o-mini",direction="input"\} 0\n/);
  });
});

describe('a misbehaving provider under Slack streaming, end to end', () => {
  const start = slackWorldPerTest();
  const streamed = (world: Awaited<ReturnType<typeof start>>) =>
    [...world.slack.callsTo('chat.startStream'), ...world.slack.callsTo('chat.appendStream'), ...world.slack.callsTo('chat.stopStream')]
      .map((call) => String(call.args.markdown_text ?? '') + ((call.args.chunks as { text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join(''))
      .join('');
  const posted = (world: Awaited<ReturnType<typeof start>>) => world.slack.callsTo('chat.postMessage').map((call) => String(call.args.text));

  it('an error event before any text is asked again: the answer is streamed once, no apology', async () => {
    const world = await start({
      ai: (call, i) => (i === 0 ? { events: [JSON.stringify({ error: { message: 'model overloaded', type: 'server_error' } })] } : { text: `echo: ${lastUserText(call)}` }),
      env: { SLACK_STREAMING: 'on' },
    });
    await postSlack(world.server.url, appMention({ text: 'stream me' }));
    await until(() => world.slack.callsTo('chat.stopStream')[0], 'the stream to be finished');
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more arrives
    expect(streamed(world)).toBe('echo: stream me');
    expect(posted(world).filter((text) => /sorry/i.test(text))).toEqual([]);
    expect(world.ai.calls).toHaveLength(2);
    expect(await world.server.bot.deadLetters.list()).toEqual([]);
  });

  it('a streamed answer with negative usage is shown once, and no apology follows it', async () => {
    const world = await start({ ai: (call) => ({ text: `echo: ${lastUserText(call)}`, usage: absurdUsage }), env: { SLACK_STREAMING: 'on' } });
    await postSlack(world.server.url, appMention({ text: 'count me' }));
    await until(() => world.slack.callsTo('chat.stopStream')[0], 'the stream to be finished');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(streamed(world)).toBe('echo: count me');
    expect(posted(world).filter((text) => /sorry/i.test(text))).toEqual([]);
    expect(world.ai.calls).toHaveLength(1);
    expect(await world.server.bot.deadLetters.list()).toEqual([]);
  });
});
