/**
 * No web chat route takes a token from its URL (proxies log URLs): WEB_TOKEN, a session token, its
 * renew token or its stream token in `?session=` or `?token=` is refused with `401 token_in_url`
 * on every route, as on an event stream, and logged the same way; not ignored (a `401
 * session_required`, or a stranger's new session on POST /web/sessions).
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const OPERATOR = 'operator-token-of-some-length-0123456789';
const SECRET = 'a-session-secret-of-32-characters-or-more';

describe('web chat: a token in the URL of any route', () => {
  let ai: FakeOpenAi;
  let web: WebBot;
  const lines: string[] = [];
  beforeAll(async () => {
    ai = await startFakeOpenAi();
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, WEB_TOKEN: OPERATOR, WEB_SESSION_SECRET: SECRET }, { logger });
  });
  afterAll(async () => {
    await web.close();
    await ai.close();
  });

  /** What `request` logged (its own lines), without what differs between any two requests (time, request id, duration). */
  async function logged(request: () => Promise<Response>): Promise<{ res: Response; lines: Record<string, unknown>[] }> {
    const before = lines.length;
    const res = await request();
    // Its access line and refusals; not the answer to an earlier message, logged meanwhile.
    const mine = lines
      .slice(before)
      .map((line) => {
        const { level, msg, status, reason, platform, method } = JSON.parse(line) as Record<string, unknown>;
        return { level, msg, status, reason, platform, method };
      })
      .filter((line) => line.msg === 'request' || line.reason !== undefined);
    return { res, lines: mine };
  }

  it('every route answers 401 token_in_url, with the cookie or without, and logs it as the event stream does', async () => {
    const started = await fetch(`${web.url}/web/sessions`, { method: 'POST' });
    const session = (await started.json()) as { token: string; streamToken: string; renewToken: string; visitor: string };
    const cookie = started.headers.get('set-cookie')!.split(';')[0]!;
    const posted = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` }, body: JSON.stringify({ text: 'mine' }) });
    const { conversation } = (await posted.json()) as { conversation: string };
    // The event stream's refusal, as it was before: its answer and its log lines.
    const stream = await logged(() => fetch(`${web.url}/web/conversations/${conversation}/events?token=${OPERATOR}`));
    expect(stream.res.status).toBe(401);
    const json = { 'content-type': 'application/json' };
    const routes: { method: string; path: string; body?: string }[] = [
      { method: 'GET', path: '/web/conversations' },
      { method: 'GET', path: `/web/conversations/${conversation}` },
      { method: 'DELETE', path: `/web/conversations/${conversation}` },
      { method: 'POST', path: '/web/messages', body: JSON.stringify({ conversation, text: 'hi' }) },
      { method: 'POST', path: '/web/feedback', body: JSON.stringify({ conversation, exchange: 'x', rating: 'up' }) },
      { method: 'POST', path: '/web/sessions' },
    ];
    const tokens = { WEB_TOKEN: OPERATOR, session: session.token, renew: session.renewToken, stream: session.streamToken };
    let webhookWarned = false;
    for (const { method, path, body } of routes) {
      for (const [what, token] of Object.entries(tokens)) {
        for (const name of ['session', 'token']) {
          for (const headers of [{}, { cookie }] as Record<string, string>[]) {
            const shown = `${method} ${path}?${name}=<${what}>${'cookie' in headers ? ' with the cookie' : ''}`;
            const { res, lines: said } = await logged(() => fetch(`${web.url}${path}?${name}=${encodeURIComponent(token)}`, { method, headers: { ...(body ? json : {}), ...headers }, body }));
            expect(res.status, shown).toBe(401);
            expect(await res.json(), shown).toEqual(await stream.res.clone().json());
            // POST /web/messages is the webhook: its refusals (session_required too) also get the HTTP layer's warn line,
            // the first of the minute only (the same refusal again is summarised: counted, and told in the next line's leftOut).
            const webhookLine = { level: 40, msg: expect.stringContaining('not taken from a URL'), status: 401, reason: 'token_in_url', platform: 'web', method: undefined };
            const access = stream.lines.map((line) => ({ ...line, method }));
            const warned = path === '/web/messages' && !webhookWarned;
            expect(said, shown).toEqual(warned ? [webhookLine, ...access] : access);
            if (path === '/web/messages') webhookWarned = true;
          }
        }
      }
    }
    // Nothing was taken: the conversation is still there, with its one exchange.
    const read = await fetch(`${web.url}/web/conversations/${conversation}`, { headers: { authorization: `Bearer ${session.token}` } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { messages: { text: string }[] }).messages[0]?.text).toBe('mine');
    for (const token of Object.values(tokens)) expect(lines.join('\n')).not.toContain(token);
  });

  it('a bearer token with no token in the URL still works, and an event stream still takes its stream token as ?session=', async () => {
    const session = (await (await fetch(`${web.url}/web/sessions`, { method: 'POST' })).json()) as { token: string; streamToken: string };
    const listed = await fetch(`${web.url}/web/conversations`, { headers: { authorization: `Bearer ${session.token}` } });
    expect(listed.status).toBe(200);
    const posted = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` }, body: JSON.stringify({ text: 'streamed' }) });
    const { conversation } = (await posted.json()) as { conversation: string };
    const abort = new AbortController();
    const stream = await fetch(`${web.url}/web/conversations/${conversation}/events?session=${encodeURIComponent(session.streamToken)}`, { signal: abort.signal });
    expect(stream.status).toBe(200);
    abort.abort();
  });
});
