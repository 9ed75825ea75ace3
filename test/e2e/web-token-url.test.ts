/** The operator's WEB_TOKEN is never taken from an event stream's URL (proxies log URLs). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const OPERATOR = 'operator-token-of-some-length-0123456789';
const SECRET = 'a-session-secret-of-32-characters-or-more';

describe('web chat: WEB_TOKEN in an event stream URL', () => {
  let ai: FakeOpenAi;
  let web: WebBot;
  beforeAll(async () => {
    ai = await startFakeOpenAi();
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, WEB_TOKEN: OPERATOR, WEB_SESSION_SECRET: SECRET });
  });
  afterAll(async () => {
    await web.close();
    await ai.close();
  });

  /** The stream's status and, for a refusal, its body; an open stream is closed at once. */
  async function open(query: string, headers: Record<string, string> = {}): Promise<{ status: number; body?: { error: { code: string; message: string } } }> {
    const abort = new AbortController();
    const res = await fetch(`${web.url}/web/conversations/ops-1/events${query}`, { headers, signal: abort.signal });
    if (res.status === 200) {
      abort.abort();
      return { status: 200 };
    }
    return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
  }

  it('?token= and ?session= with WEB_TOKEN are refused with a 401 that says what to use; the header and a stream token open it', async () => {
    const posted = await fetch(`${web.url}/web/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR}` },
      body: JSON.stringify({ conversation: 'ops-1', text: 'hi' }),
    });
    expect(posted.status).toBe(202);
    for (const query of [`?token=${OPERATOR}`, `?session=${OPERATOR}`]) {
      const refused = await open(query);
      expect(refused.status).toBe(401);
      expect(refused.body?.error.code).toBe('token_in_url');
      expect(refused.body?.error.message).toContain('Authorization');
      expect(refused.body?.error.message).toContain('streamToken');
      expect(refused.body?.error.message).not.toContain(OPERATOR);
    }
    expect((await open('', { authorization: `Bearer ${OPERATOR}` })).status).toBe(200);
    // A visitor's stream token still opens the visitor's own stream.
    const session = (await (await fetch(`${web.url}/web/sessions`, { method: 'POST' })).json()) as { token: string; streamToken: string };
    const mine = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` }, body: JSON.stringify({ text: 'mine' }) });
    const { conversation } = (await mine.json()) as { conversation: string };
    const abort = new AbortController();
    const stream = await fetch(`${web.url}/web/conversations/${conversation}/events?session=${encodeURIComponent(session.streamToken)}`, { signal: abort.signal });
    expect(stream.status).toBe(200);
    abort.abort();
    // The session's own token in the URL: refused the same way, and the message does not call it WEB_TOKEN alone.
    for (const query of [`?session=${encodeURIComponent(session.token)}`, `?token=${encodeURIComponent(session.token)}`]) {
      const refused = await open(query);
      expect(refused.status).toBe(401);
      expect(refused.body?.error.code).toBe('token_in_url');
      expect(refused.body?.error.message).toContain('session tokens');
    }
  });

  it('a HEAD on the stream takes its stream token as the GET does (headers alone); WEB_TOKEN in its URL is still refused', async () => {
    const session = (await (await fetch(`${web.url}/web/sessions`, { method: 'POST' })).json()) as { token: string; streamToken: string };
    const mine = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` }, body: JSON.stringify({ text: 'mine' }) });
    const { conversation } = (await mine.json()) as { conversation: string };
    const head = await fetch(`${web.url}/web/conversations/${conversation}/events?session=${encodeURIComponent(session.streamToken)}`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type')]).toEqual([200, 'text/event-stream; charset=utf-8']);
    const operator = await fetch(`${web.url}/web/conversations/ops-1/events?session=${OPERATOR}`, { method: 'HEAD' });
    expect(operator.status).toBe(401);
  });
});
