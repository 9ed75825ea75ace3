/**
 * A website in WEB_ALLOWED_ORIGINS calling the web chat's API from its own script reads the HTTP
 * layer's refusals (413 over BODY_LIMIT_BYTES, 415, 405) as the errors they are: they carry its
 * CORS headers. Without them the browser hides the answer and fetch throws "Failed to fetch".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const ALLOWED = 'https://shop.example';
const OTHER = 'https://elsewhere.example';
const LIMIT = 4096;
const big = JSON.stringify({ text: 'x'.repeat(2 * LIMIT) });

describe('web chat refusals by the HTTP layer, for the sites in WEB_ALLOWED_ORIGINS', () => {
  let web: WebBot;
  beforeAll(async () => {
    web = await startWebBot({ WEB_ALLOWED_ORIGINS: ALLOWED, BODY_LIMIT_BYTES: String(LIMIT) });
  });
  afterAll(async () => {
    await web.close();
  });

  const send = (origin: string, path: string, init: RequestInit) =>
    fetch(`${web.url}${path}`, { ...init, headers: { origin, ...(init.headers as Record<string, string>) } });
  const tooLarge: RequestInit = { method: 'POST', headers: { 'content-type': 'application/json' }, body: big };
  const wrongType: RequestInit = { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"text":"hi"}' };

  const code = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

  it('an allowed origin reads the 413 for a body over BODY_LIMIT_BYTES, on the messages and the sessions API', async () => {
    for (const path of ['/web/messages', '/web/sessions']) {
      const response = await send(ALLOWED, path, tooLarge);
      expect([path, response.status, response.headers.get('access-control-allow-origin')]).toEqual([path, 413, ALLOWED]);
      expect(response.headers.get('vary')).toMatch(/origin/i);
      expect(await code(response)).toBe('payload_too_large');
    }
  });

  it('an allowed origin reads the 415 for a wrong content type and the 405 for a wrong method (and the adapter\'s own 401)', async () => {
    const unsupported = await send(ALLOWED, '/web/messages', wrongType);
    expect(unsupported.status).toBe(415);
    expect(unsupported.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(await code(unsupported)).toBe('unsupported_media_type');
    const wrongMethod = await send(ALLOWED, '/web/messages', { method: 'GET' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(await code(wrongMethod)).toBe('method_not_allowed');
    // And, as before, the refusals the adapter itself throws (a bad session).
    const badSession = await send(ALLOWED, '/web/messages', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer forged' }, body: '{"text":"hi"}' });
    expect(badSession.status).toBe(401);
    expect(badSession.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(await code(badSession)).toBe('bad_session');
  });

  it('another site\'s form cannot start a session (it would replace the visitor\'s cookie): 403, no cookie; allowed and own origins, and clients without fetch metadata, can', async () => {
    const start = (headers: Record<string, string>) => fetch(`${web.url}/web/sessions`, { method: 'POST', headers });
    const forged = await start({ origin: OTHER, 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' });
    expect(forged.status).toBe(403);
    expect(await code(forged)).toBe('cross_site');
    expect(forged.headers.get('set-cookie')).toBeNull();
    expect((await start({ origin: 'null', 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await start({ origin: ALLOWED, 'sec-fetch-site': 'cross-site' })).status).toBe(201);
    expect((await start({ origin: new URL(web.url).origin, 'sec-fetch-site': 'same-origin' })).status).toBe(201);
    expect((await start({})).status).toBe(201);
  });

  it('a conversation id that is not valid percent-encoding is a 400 malformed_id (as in the console), not a 404', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await send(ALLOWED, '/web/conversations/%E0%A4%A', { method });
      expect([method, response.status, await code(response)]).toEqual([method, 400, 'malformed_id']);
      expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    }
  });

  it('another origin gets the same refusals without access-control-allow-origin (Vary: Origin only)', async () => {
    for (const [init, status] of [[tooLarge, 413], [wrongType, 415]] as const) {
      const response = await send(OTHER, '/web/messages', init);
      expect(response.status).toBe(status);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('vary')).toMatch(/origin/i);
    }
  });

  it('through bot.fetch too', async () => {
    const response = await web.bot.fetch(new Request('http://127.0.0.1/web/messages', { ...tooLarge, headers: { origin: ALLOWED, 'content-type': 'application/json' } }));
    expect(response.status).toBe(413);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });
});

describe("the web chat API's answers are private", () => {
  let web: WebBot;
  beforeAll(async () => {
    web = await startWebBot({});
  });
  afterAll(async () => {
    await web.close();
  });

  it('no-store and nosniff on the JSON answers (a transcript, a message taken, a refusal); the event stream too', async () => {
    const posted = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'private-1', text: 'hi' }) });
    const transcript = await fetch(`${web.url}/web/conversations/private-1`);
    const missing = await fetch(`${web.url}/web/conversations/a/b/c`);
    for (const [name, response] of [['message', posted], ['transcript', transcript], ['404', missing]] as const) {
      expect([name, response.headers.get('cache-control'), response.headers.get('x-content-type-options')]).toEqual([name, 'no-store', 'nosniff']);
    }
    expect([posted.status, transcript.status, missing.status]).toEqual([202, 200, 404]);
    const controller = new AbortController();
    const events = await fetch(`${web.url}/web/conversations/private-1/events`, { signal: controller.signal });
    // no-transform too: an app's compression() middleware passes each event on at once.
    expect(events.headers.get('cache-control')).toBe('no-store, no-transform');
    controller.abort();
  });
});
