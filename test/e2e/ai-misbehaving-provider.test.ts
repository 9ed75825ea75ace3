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

describe('what a compatible server leaves out, end to end', () => {
  const start = slackWorldPerTest();
  const chunk = (delta: object, finish: string | null = null) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] });

  it('Slack streaming: a stream a proxy closes mid-answer (no finish_reason) is asked again: the whole answer once, never the half', async () => {
    const world = await start({
      ai: (call, i) => (i === 0 ? { events: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Half an ans' })] } : { text: `echo: ${lastUserText(call)}` }),
      env: { SLACK_STREAMING: 'on' },
    });
    await postSlack(world.server.url, appMention({ text: 'stream me whole' }));
    await until(() => world.slack.callsTo('chat.stopStream')[0], 'the stream to be finished');
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more arrives
    const streamed = [...world.slack.callsTo('chat.startStream'), ...world.slack.callsTo('chat.appendStream'), ...world.slack.callsTo('chat.stopStream')]
      .map((call) => String(call.args.markdown_text ?? '') + ((call.args.chunks as { text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join(''))
      .join('');
    expect(streamed).toBe('echo: stream me whole');
    expect(world.slack.callsTo('chat.postMessage')).toEqual([]);
    expect(world.ai.calls).toHaveLength(2);
  });

  it('web chat: an answer without usage is estimated, so the cost and the budget see it', async () => {
    const ai = await startFakeOpenAi((call) => ({ body: { id: 'x', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: `echo: ${lastUserText(call)}` }, finish_reason: 'stop' }] } }));
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_MODEL: 'gpt-4o-mini', AI_BUDGET_USD_PER_DAY: '100' });
    try {
      await web.post('no-usage', 'what does this cost?');
      await web.waitFor('no-usage', (e) => assistantReplies(e).length >= 1);
      expect(assistantReplies(await web.transcript('no-usage')).map((e) => e.text)).toEqual(['echo: what does this cost?']);
      const metrics = await (await fetch(`${web.url}/metrics`)).text();
      expect(Number(/parley_ai_cost_usd_total\{model="gpt-4o-mini"\} (\S+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
      // The budgets' gauge is read from their store as it is scraped: it follows.
      const spent = async () => Number(/parley_ai_budget_spent_usd\{period="day"\} (\S+)/.exec(await (await fetch(`${web.url}/metrics`)).text())?.[1]);
      await until(async () => ((await spent()) > 0 ? true : undefined), 'the budget to count the answer');
    } finally {
      await web.close();
      await ai.close();
    }
  });
});
