/**
 * Signing out of the console ends the session on the server, not only in the browser that signed
 * out: the same cookie (another tab's live overview, a copy from a shared machine or a proxy log)
 * is refused from then on, and a live overview open with it ends. A real bot on loopback, memory
 * store; the AI faked over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleAuth } from '../../src/console/auth.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { openLive, readUntil, signIn as signInWith, signOut } from '../helpers/console-session.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const TOKEN = 'console-sign-out-token-4b7e1d9c2a';
const signIn = (url: string) => signInWith(url, TOKEN);

describe('signing out of the console (memory store)', () => {
  let ai: FakeOpenAi;
  let web: WebBot;

  beforeAll(async () => {
    ai = await startFakeOpenAi();
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, ADMIN_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await web?.close();
    await ai?.close();
  });

  it('refuses the same cookie afterwards everywhere it is sent, and ends the live overview open with it', async () => {
    const cookie = await signIn(web.url);
    // Another session of the operator's (another browser, signed in a second earlier): not signed out with it.
    const other = new ConsoleAuth(TOKEN).signIn({ method: 'GET', url: new URL(`${web.url}/console`), headers: {}, body: Buffer.alloc(0) }, Date.now() - 1000).split(';')[0]!;
    expect((await fetch(`${web.url}/console/api/overview`, { headers: { cookie } })).status).toBe(200);
    const abort = new AbortController();
    try {
      const live = await openLive(web.url, cookie, abort.signal);

      const out = await signOut(web.url, cookie);
      expect(out.status).toBe(303);
      expect(out.headers.get('set-cookie')).toMatch(/^parley_console=; .*Max-Age=0/);

      // The copy of the cookie the other tab holds: the API, the page, the live overview and actions refuse it.
      const overview = await fetch(`${web.url}/console/api/overview`, { headers: { cookie } });
      expect(overview.status).toBe(401);
      expect(await overview.json()).toMatchObject({ error: { code: 'sign_in_required' } });
      expect(await (await fetch(`${web.url}/console`, { headers: { cookie } })).text()).toMatch(/action="\/console\/login"/);
      expect((await fetch(`${web.url}/console/api/events`, { headers: { cookie } })).status).toBe(401);
      const replayAll = await fetch(`${web.url}/console/api/dead-letters/replay-all`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{}' });
      expect(replayAll.status).toBe(401);

      // The stream open with it ends (on its next tick), without the client going away.
      expect((await readUntil(live, () => false)).ended).toBe(true);

      // Another session, the bearer token and a new sign-in are not affected.
      expect((await fetch(`${web.url}/console/api/overview`, { headers: { cookie: other } })).status).toBe(200);
      expect((await fetch(`${web.url}/console/api/overview`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      const again = await signIn(web.url);
      expect(again).not.toBe(cookie);
      expect((await fetch(`${web.url}/console/api/overview`, { headers: { cookie: again } })).status).toBe(200);
    } finally {
      abort.abort();
    }
  });

  it('signs out a session whichever cookie of the name comes first (a planted one on a longer path)', async () => {
    const cookie = await signIn(web.url);
    expect((await signOut(web.url, `parley_console=planted; ${cookie}`)).status).toBe(303);
    expect((await fetch(`${web.url}/console/api/overview`, { headers: { cookie } })).status).toBe(401);
  });
});
