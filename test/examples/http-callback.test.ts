/**
 * The third-party-style adapter in examples/http-callback, end to end: signed messages in over
 * HTTP, the fake AI answers, and the replies arrive at a local fake of the callback receiver.
 * Signatures are made here with node:crypto, the way the sending system would.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { start, type RunningExample } from '../../examples/http-callback/app.js';
import { startFakeCallback, type CallbackCall, type FakeCallback } from '../fakes/callback-server.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

const SECRET = 'callback-test-secret';
const MAX_CHARS = 120;
const sign = (body: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('examples/http-callback: an adapter written only against parley/adapter-kit', () => {
  let callback: FakeCallback;
  let ai: FakeOpenAi;
  let running: RunningExample;
  let n = 0;
  beforeAll(async () => {
    callback = await startFakeCallback();
    ai = await startFakeOpenAi();
    running = await start(0, { ...testEnv, OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'sk-test', CALLBACK_URL: callback.url, CALLBACK_SECRET: SECRET, CALLBACK_MAX_CHARS: String(MAX_CHARS) });
  });
  afterAll(async () => {
    await running.close();
    await callback.close();
    await ai.close();
  });
  beforeEach(() => callback.script(() => undefined));

  /** POST a signed message; returns the response and the conversation it used. */
  async function post(text: string, overrides: { body?: string; signature?: string } = {}) {
    const conversation = `conv-${++n}`;
    const body = overrides.body ?? JSON.stringify({ id: `msg-${n}`, conversation, user: 'user-1', text });
    const res = await fetch(`${running.url}/callback/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': overrides.signature ?? sign(body) },
      body,
    });
    return { res, conversation };
  }
  const callsFor = (conversation: string): CallbackCall[] => callback.calls.filter((c) => c.body.conversation === conversation);

  it('answers a signed message through the AI, posting the reply signed to the callback', async () => {
    const { res, conversation } = await post('hello over a callback');
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ id: `msg-${n}` });
    await until(() => callsFor(conversation).length === 1, 'the reply at the callback');
    const [call] = callsFor(conversation);
    expect(call!.body).toEqual({ conversation, text: 'echo: hello over a callback', part: 1, parts: 1, kind: 'answer' });
    expect(call!.headers['x-signature']).toBe(sign(call!.raw));
    expect(call!.headers['idempotency-key']).toMatch(/\S+:1:0$/);
  });

  it('splits a long reply into parts of at most maxChars, posted in order', async () => {
    const sentences = Array.from({ length: 12 }, (_, i) => `Sentence number ${i + 1} of a long answer.`);
    ai.script(() => ({ text: sentences.join(' ') }));
    try {
      const { conversation } = await post('tell me a lot');
      await until(() => callsFor(conversation).some((c) => c.body.part === c.body.parts), 'the last part');
      const parts = callsFor(conversation);
      expect(parts.length).toBeGreaterThan(3);
      expect(parts.map((c) => c.body.part)).toEqual(parts.map((_, i) => i + 1));
      expect(parts.every((c) => c.body.text.length <= MAX_CHARS && c.body.parts === parts.length)).toBe(true);
      expect(parts.map((c) => c.body.text).join(' ')).toBe(sentences.join(' '));
    } finally {
      ai.script((call) => ({ text: `echo: ${String(call.body.messages.at(-1)?.content)}` }));
    }
  });

  it('waits out a 429 with Retry-After from the callback, then delivers once', async () => {
    let limited: number | undefined;
    callback.script((_call, i) => (limited === undefined ? ((limited = i), { status: 429, headers: { 'retry-after': '1' } }) : undefined));
    const { conversation } = await post('are you rate limited?');
    await until(() => callsFor(conversation).length === 2, 'the retried reply', 8000);
    const [refused, delivered] = callsFor(conversation);
    expect(delivered!.at - refused!.at).toBeGreaterThanOrEqual(950);
    expect(delivered!.headers['idempotency-key']).toBe(refused!.headers['idempotency-key']);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for a duplicate to show up
    expect(callsFor(conversation)).toHaveLength(2);
  });

  it('refuses a wrong or missing signature with 401', async () => {
    const body = JSON.stringify({ id: 'forged', conversation: 'forged', user: 'mallory', text: 'hi' });
    const forged = await post('', { body, signature: sign(body, 'not-the-secret') });
    expect(forged.res.status).toBe(401);
    expect(await forged.res.json()).toMatchObject({ error: { code: 'bad_signature' } });
    const unsigned = await post('', { body, signature: '' });
    expect(unsigned.res.status).toBe(401);
    expect(await unsigned.res.json()).toMatchObject({ error: { code: 'missing_signature' } });
  });

  it('answers 400 to a signed body that is not JSON or does not fit', async () => {
    const notJson = await post('', { body: '{nope' });
    expect(notJson.res.status).toBe(400);
    expect(await notJson.res.json()).toMatchObject({ error: { code: 'malformed_body' } });
    const misfit = await post('', { body: JSON.stringify({ id: 7, conversation: 'c', text: '' }) });
    expect(misfit.res.status).toBe(400);
    expect(await misfit.res.json()).toMatchObject({ error: { code: 'invalid_payload' } });
  });
});
