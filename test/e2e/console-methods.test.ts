/**
 * The console's JSON API answers a path it serves, asked with the other method, with 405 and
 * `Allow` (as every other route does), not with 404 "nothing is served here".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const TOKEN = 'console-methods-admin-token-3e9b1f';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

describe('the console API with the wrong method', () => {
  let web: WebBot;
  beforeAll(async () => {
    web = await startWebBot({ ADMIN_TOKEN: TOKEN, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
  });
  afterAll(async () => {
    await web?.close();
  });

  const cases: [method: string, path: string, allow: string][] = [
    ['POST', '/overview', 'GET'],
    ['POST', '/budgets', 'GET'],
    ['POST', '/alerts', 'GET'],
    ['POST', '/dead-letters', 'GET'],
    ['POST', '/conversations', 'GET'],
    ['POST', '/conversations/c1', 'GET'],
    ['GET', '/dead-letters/some-id/replay', 'POST'],
    ['GET', '/dead-letters/some-id/drop', 'POST'],
    ['GET', '/dead-letters/replay-all', 'POST'],
    ['GET', '/dead-letters/purge', 'POST'],
  ];
  it.each(cases)('%s /console/api%s → 405, Allow: %s', async (method, path, allow) => {
    const res = await fetch(`${web.url}/console/api${path}`, { method, headers: auth, ...(method === 'POST' ? { body: '{}' } : {}) });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(await res.json()).toEqual({ error: { code: 'method_not_allowed', message: `Use ${allow} on this path.` } });
  });

  it('a POST to a read without a JSON body (curl -X POST) is told the method, not to send JSON', async () => {
    const res = await fetch(`${web.url}/console/api/overview`, { method: 'POST', headers: { authorization: auth.authorization } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
    // An action sent without JSON is still refused as before.
    const purge = await fetch(`${web.url}/console/api/dead-letters/purge`, { method: 'POST', headers: { authorization: auth.authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=purge' });
    expect(purge.status).toBe(415);
  });

  it('a path it does not serve is still 404, and the right method still works', async () => {
    const missing = await fetch(`${web.url}/console/api/nope`, { method: 'POST', headers: auth, body: '{}' });
    expect(missing.status).toBe(404);
    const purge = await fetch(`${web.url}/console/api/dead-letters/purge`, { method: 'POST', headers: auth, body: '{"confirm":"purge"}' });
    expect(await purge.json()).toEqual({ purged: 0 });
    const overview = await fetch(`${web.url}/console/api/overview`, { headers: auth });
    expect(overview.status).toBe(200);
  });

  it('still asks for the session first: no method hint without it', async () => {
    const res = await fetch(`${web.url}/console/api/overview`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
  });
});
