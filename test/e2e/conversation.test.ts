import { afterEach, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { ConversationHistory } from '../../src/ai/history.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

describe('conversations: order, limits, direct mode', () => {
  let ai: FakeOpenAi | undefined;
  let web: WebBot | undefined;
  afterEach(async () => {
    await web?.close();
    await ai?.close();
    web = ai = undefined;
  });

  it('answers two quick messages of one conversation in order, others in parallel', async () => {
    // The first message is slow at the AI: without per-conversation order its answer would come second.
    ai = await startFakeOpenAi((call) => ({ text: `re: ${lastUserText(call)}`, delayMs: lastUserText(call) === 'one' ? 400 : 10 }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url });
    await web.post('order', 'one');
    await web.post('order', 'two');
    await web.post('other', 'fast lane');
    const other = await web.waitFor('other', (e) => assistantReplies(e).length === 1);
    expect(assistantReplies(await web.transcript('order'))).toHaveLength(0); // 'other' was not held up by 'order'
    expect(other.at(-1)!.text).toBe('re: fast lane');
    const entries = await web.waitFor('order', (e) => assistantReplies(e).length === 2);
    expect(assistantReplies(entries).map((e) => e.text)).toEqual(['re: one', 're: two']);
    // The second message was sent to the AI with the first exchange as history.
    const second = ai.calls.find((c) => lastUserText(c) === 'two')!;
    expect(second.body.messages.map((m) => m.content)).toContain('re: one');
  });

  it('a web message over the per-user limit gets 429 with Retry-After and no notice: the visitor sends it again', async () => {
    // Platforms that cannot show a 429 get one notice per window instead (test/unit/ingest.test.ts).
    ai = await startFakeOpenAi();
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, RATE_LIMIT_USER_PER_MINUTE: '2' });
    const statuses = [];
    for (const text of ['m1', 'm2', 'm3', 'm4', 'm5']) statuses.push((await web.post('limited', text)).status);
    expect(statuses).toEqual([202, 202, 429, 429, 429]);
    await web.waitFor('limited', (e) => assistantReplies(e).length === 2);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const entries = await web.transcript('limited');
    expect(entries.filter((e) => e.role === 'user').map((e) => e.text)).toEqual(['m1', 'm2']);
    expect(assistantReplies(entries).map((e) => [e.kind, e.text])).toEqual([
      ['answer', 'echo: m1'],
      ['answer', 'echo: m2'],
    ]);
    expect(ai.calls).toHaveLength(2);
  });

  it('direct mode answers inside the request', async () => {
    ai = await startFakeOpenAi();
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, MODE: 'direct' });
    const res = await web.post('direct', 'right now');
    expect(res.status).toBe(202);
    // No waiting: the reply is there as soon as the request returned.
    expect(assistantReplies(await web.transcript('direct')).map((e) => e.text)).toEqual(['echo: right now']);
  });

  it('direct mode dead-letters a failure and apologises once', async () => {
    ai = await startFakeOpenAi(() => ({ status: 500 }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, MODE: 'direct', AI_ATTEMPTS: '2' });
    expect((await web.post('direct-fail', 'hello')).status).toBe(202);
    expect(assistantReplies(await web.transcript('direct-fail')).map((e) => e.kind)).toEqual(['apology']);
    expect(await web.bot.deadLetters.list()).toMatchObject([{ reason: 'direct_failed' }]);
  });

  it('direct mode hands a message that must wait (the AI circuit just opened) to the queue, which answers it once the AI is back', async () => {
    ai = await startFakeOpenAi((call, i) => (i === 0 ? { status: 500 } : { text: `back: ${lastUserText(call)}` }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, MODE: 'direct', AI_ATTEMPTS: '1', AI_BREAKER_THRESHOLD: '1', AI_BREAKER_HALF_OPEN_MS: '300' });
    expect((await web.post('direct-wait', 'hello')).status).toBe(202);
    const entries = await web.waitFor('direct-wait', (e) => assistantReplies(e).length === 1);
    expect(assistantReplies(entries).map((e) => [e.kind, e.text])).toEqual([['answer', 'back: hello']]);
    expect(await web.bot.deadLetters.list()).toEqual([]);
  });

  it('direct mode: a message that must wait while the queue is full (QUEUE_MAX_MESSAGES) is dead-lettered and apologised for, not left unanswered', async () => {
    ai = await startFakeOpenAi(() => ({ status: 429, headers: { 'retry-after': '60' } }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, MODE: 'direct', QUEUE_MAX_MESSAGES: '1' });
    // The first waits in the queue (the AI asked for a minute); the queue then has no room for the second.
    expect((await web.post('direct-full-1', 'first')).status).toBe(202);
    expect((await web.bot.queue.counts()).delayed + (await web.bot.queue.counts()).waiting + (await web.bot.queue.counts()).active).toBe(1);
    expect((await web.post('direct-full-2', 'second')).status).toBe(202);
    expect(await web.bot.deadLetters.list()).toMatchObject([{ reason: 'direct_failed' }]);
    const entries = await web.waitFor('direct-full-2', (e) => assistantReplies(e).length === 1);
    expect(assistantReplies(entries).map((e) => e.kind)).toEqual(['apology']);
    expect(assistantReplies(await web.transcript('direct-full-1'))).toEqual([]);
  });

  it('lets a developer replace the AI with their own handler', async () => {
    web = await startWebBot();
    web.bot.onMessage(async (message, ctx) => {
      const earlier = await ctx.history.window();
      await ctx.reply(`custom #${earlier.length / 2 + 1}: ${message.text.toUpperCase()}`);
      await ctx.history.append([
        { role: 'user', text: message.text, at: message.receivedAt },
        { role: 'assistant', text: 'x', at: new Date().toISOString() },
      ]);
    });
    await web.post('custom', 'hi');
    await web.waitFor('custom', (e) => assistantReplies(e).length === 1);
    await web.post('custom', 'again');
    const entries = await web.waitFor('custom', (e) => assistantReplies(e).length === 2);
    expect(assistantReplies(entries).map((e) => e.text)).toEqual(['custom #1: HI', 'custom #2: AGAIN']);
  });

  it('with no AI provider, replies with a plainly marked notice quoting the message', async () => {
    web = await startWebBot();
    await web.post('none', 'ping');
    const entries = await web.waitFor('none', (e) => assistantReplies(e).length === 1);
    expect(entries.at(-1)!.text).toBe('[parley] No AI provider configured (set OPENAI_API_KEY or OPENAI_BASE_URL). You said: "ping"');
    // parley's notice, not a model's answer: marked so, and not in the history a model reads later.
    expect(entries.at(-1)!.kind).toBe('notice');
    const history = new ConversationHistory(web.bot.store, web.bot.config.history);
    expect(await history.window({ platform: 'web', id: 'none' })).toEqual([]);
    const sent = await web.bot.metrics.registry.getSingleMetric('parley_replies_sent_total')!.get();
    expect(sent.values.filter((v) => v.value > 0).map((v) => v.labels.kind)).toEqual(['notice']);
  });
});
