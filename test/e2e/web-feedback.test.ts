/**
 * Feedback on answers in the web chat, over HTTP against a real bot and the fake OpenAI server:
 * an answer's transcript entry names its exchange; POST /web/feedback stores a 👍/👎 (and a 👎's
 * reason) with it in the conversation log and counts it in /metrics; a visitor rates only its own
 * conversations' answers (404 otherwise, as for every web route).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TranscriptEntry } from '../../adapters/web/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { until } from '../helpers/until.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

const SECRET = 'web-session-secret-for-the-feedback-tests-0123';
const OPERATOR = 'operator-token-for-the-feedback-tests-0123';

describe('POST /web/feedback', () => {
  let ai: FakeOpenAi;
  let web: WebBot;
  beforeAll(async () => {
    ai = await startFakeOpenAi();
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, WEB_SESSION_SECRET: SECRET, WEB_TOKEN: OPERATOR });
  });
  afterAll(async () => {
    await web?.close();
    await ai?.close();
  });

  const call = (method: string, path: string, token?: string, body?: unknown, contentType = 'application/json') =>
    fetch(`${web.url}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': contentType }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  const session = async () => ((await (await call('POST', '/web/sessions')).json()) as { token: string; visitor: string }).token;
  /** A new conversation of `token`'s visitor, answered: its id and the answer's transcript entry. */
  async function answered(token: string, text: string): Promise<{ conversation: string; answer: TranscriptEntry }> {
    const { conversation } = (await (await call('POST', '/web/messages', token, { text })).json()) as { conversation: string };
    let answer: TranscriptEntry | undefined;
    await until(async () => {
      const res = await call('GET', `/web/conversations/${conversation}`, token);
      answer = assistantReplies(((await res.json()) as { messages: TranscriptEntry[] }).messages)[0];
      return answer !== undefined;
    }, 'the answer');
    await until(async () => (await web.bot.conversationLog.list(conversation)).length > 0, 'the exchange in the log');
    return { conversation, answer: answer! };
  }
  const rate = (token: string | undefined, body: Record<string, unknown>) => call('POST', '/web/feedback', token, body);
  async function counted(rating: 'good' | 'bad'): Promise<number> {
    const text = await (await fetch(`${web.url}/metrics`)).text();
    return Number(new RegExp(`parley_feedback_total\\{platform="web",rating="${rating}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  }

  it("an answer's transcript entry names its exchange, the job id the conversation log keeps", async () => {
    const token = await session();
    const { conversation, answer } = await answered(token, 'hello there');
    expect(answer).toMatchObject({ role: 'assistant', kind: 'answer', exchange: expect.stringMatching(/^web\./) });
    const [entry] = await web.bot.conversationLog.list(conversation);
    expect(entry!.id).toBe(answer.exchange);
  });

  it('stores a 👍 with its exchange and counts it; a 👎 with a reason replaces it and counts once', async () => {
    const token = await session();
    const { conversation, answer } = await answered(token, 'what are your opening hours?');
    const [good, bad] = [await counted('good'), await counted('bad')];

    const res = await rate(token, { conversation, exchange: answer.exchange, rating: 'good' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ rating: 'good' });
    const [rated] = await web.bot.conversationLog.list(conversation);
    expect(rated).toMatchObject({ id: answer.exchange, feedback: { rating: 'good', user: expect.any(String), at: expect.any(String) } });
    expect(await counted('good')).toBe(good + 1);

    // the client's 👎 first, then its inline reason
    expect((await rate(token, { conversation, exchange: answer.exchange, rating: 'bad' })).status).toBe(200);
    expect((await rate(token, { conversation, exchange: answer.exchange, rating: 'bad', reason: '  We open at nine, not ten.  ' })).status).toBe(200);
    expect((await web.bot.conversationLog.list(conversation))[0]!.feedback).toMatchObject({ rating: 'bad', reason: 'We open at nine, not ten.' });
    expect(await counted('bad')).toBe(bad + 1);
    expect(await counted('good')).toBe(good + 1);

    // the console's summary counts it
    const [summary] = (await web.bot.conversationLog.search!({})).filter((s) => s.conversationId === conversation);
    expect(summary!.feedback).toEqual({ good: 0, bad: 1 });
  });

  it("another visitor's conversation is a 404, and so is an exchange of another conversation; nothing is stored or counted", async () => {
    const [alice, bob] = [await session(), await session()];
    const mine = await answered(alice, 'a question of mine');
    const theirs = await answered(bob, 'a question of theirs');
    const [good, bad] = [await counted('good'), await counted('bad')];

    const foreign = await rate(bob, { conversation: mine.conversation, exchange: mine.answer.exchange, rating: 'bad', reason: 'spite' });
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ error: { code: 'not_found' } });
    // bob's own conversation, alice's exchange: not an answer of that conversation
    expect((await rate(bob, { conversation: theirs.conversation, exchange: mine.answer.exchange, rating: 'bad' })).status).toBe(404);
    expect((await rate(alice, { conversation: mine.conversation, exchange: 'web.no-such-exchange', rating: 'good' })).status).toBe(404);
    expect((await web.bot.conversationLog.list(mine.conversation))[0]).not.toHaveProperty('feedback');
    expect([await counted('good'), await counted('bad')]).toEqual([good, bad]);

    // the operator's WEB_TOKEN reaches every conversation
    expect((await rate(OPERATOR, { conversation: mine.conversation, exchange: mine.answer.exchange, rating: 'good' })).status).toBe(200);
  });

  it('refuses a forged session (401), a bad rating (400) and a body that is not JSON (415)', async () => {
    const token = await session();
    const { conversation, answer } = await answered(token, 'one more question');
    expect((await rate('v1.forged.9999999999999.abc', { conversation, exchange: answer.exchange, rating: 'good' })).status).toBe(401);
    expect((await rate(token, { conversation, exchange: answer.exchange, rating: 'meh' })).status).toBe(400);
    expect((await rate(token, { conversation, rating: 'good' })).status).toBe(400);
    const form = await call('POST', '/web/feedback', token, `conversation=${conversation}&exchange=${answer.exchange}&rating=good`, 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
    expect((await web.bot.conversationLog.list(conversation))[0]).not.toHaveProperty('feedback');
    // Counted as refused webhooks are (and logged at warn by the HTTP layer), as on POST /web/messages.
    const notJson = await call('POST', '/web/feedback', token, '{"conversation":', 'application/json');
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: 'malformed_body' } });
    const metrics = await (await fetch(`${web.url}/metrics`)).text();
    expect(metrics).toMatch(/^parley_webhooks_rejected_total\{platform="web",reason="malformed_body"\} 1$/m);
    expect(metrics).toMatch(/^parley_webhooks_rejected_total\{platform="web",reason="unsupported_media_type"\} 1$/m);
  });

  it('takes JSON whatever the case of its media type, as POST /web/messages does', async () => {
    const token = await session();
    const { conversation, answer } = await answered(token, 'a question in capitals');
    const body = { conversation, exchange: answer.exchange, rating: 'good' };
    for (const type of ['Application/JSON', 'APPLICATION/JSON; charset=UTF-8', ' application/json ;charset=utf-8']) {
      expect((await call('POST', '/web/messages', token, { conversation, text: 'hi' }, type)).status).toBe(202);
      expect((await call('POST', '/web/feedback', token, body, type)).status).toBe(200);
    }
    expect((await web.bot.conversationLog.list(conversation)).find((e) => e.id === answer.exchange)).toMatchObject({ feedback: { rating: 'good' } });
    // application/jsonp is another type: refused by both
    expect((await call('POST', '/web/messages', token, { conversation, text: 'hi' }, 'application/jsonp')).status).toBe(415);
    expect((await call('POST', '/web/feedback', token, body, 'application/jsonp')).status).toBe(415);
  });
});
