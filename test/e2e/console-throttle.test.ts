/**
 * The console's sign-in throttle covers the bearer token too: a script guessing ADMIN_TOKEN on
 * the JSON API counts against its address exactly as wrong form sign-ins do, and past 10 a minute
 * the API answers 429 with Retry-After, the right token included. Real bot servers on loopback,
 * the AI faked over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startWebBot } from '../helpers/web-bot.js';

const TOKEN = 'console-throttle-admin-token-3e9a71';
const wrong = (i: number) => `wrong-bearer-token-${i}-padding`;

const overview = (url: string, headers: Record<string, string>) => fetch(`${url}/console/api/overview`, { headers });
const bearer = (token: string, forwardedFor?: string) => ({
  authorization: `Bearer ${token}`,
  ...(forwardedFor ? { 'x-forwarded-for': `${forwardedFor}, 10.0.0.1` } : {}),
});
const signInForm = (url: string, token: string) =>
  fetch(`${url}/console/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
    redirect: 'manual',
  });

describe('wrong bearer tokens on the console API', () => {
  let ai: FakeOpenAi;
  beforeAll(async () => {
    ai = await startFakeOpenAi();
  });
  afterAll(async () => {
    await ai.close();
  });

  it('count like wrong sign-ins: past 10 a minute the API answers 429 with Retry-After, the right token and the form too', async () => {
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, ADMIN_TOKEN: TOKEN });
    try {
      const session = (await signInForm(web.url, TOKEN)).headers.get('set-cookie')!.split(';')[0]!;
      // The right token never counts, however often it is sent.
      for (let i = 0; i < 15; i++) expect((await overview(web.url, bearer(TOKEN))).status).toBe(200);
      for (let i = 0; i < 10; i++) expect((await overview(web.url, bearer(wrong(i)))).status).toBe(401);
      const refused = await overview(web.url, bearer(TOKEN));
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('too_many_attempts');
      expect((await overview(web.url, bearer(wrong(11)))).status).toBe(429);
      // The bearer page and the form share the count.
      expect((await fetch(`${web.url}/console`, { headers: bearer(TOKEN) })).status).toBe(429);
      expect((await signInForm(web.url, TOKEN)).status).toBe(429);
      // A session already given keeps working: only signing in is throttled.
      expect((await overview(web.url, { cookie: session })).status).toBe(200);
    } finally {
      await web.close();
    }
  });

  it('share one count with wrong form sign-ins from the same address', async () => {
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, ADMIN_TOKEN: TOKEN });
    try {
      for (let i = 0; i < 5; i++) expect((await signInForm(web.url, wrong(i))).status).toBe(401);
      for (let i = 5; i < 10; i++) expect((await overview(web.url, bearer(wrong(i)))).status).toBe(401);
      expect((await overview(web.url, bearer(TOKEN))).status).toBe(429);
    } finally {
      await web.close();
    }
  });

  it('a sign-in sent as JSON is 415, naming the form encoding, and never counts as a failed one', async () => {
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, ADMIN_TOKEN: TOKEN });
    try {
      for (let i = 0; i < 12; i++) {
        const res = await fetch(`${web.url}/console/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: i % 2 ? TOKEN : wrong(i) }), redirect: 'manual' });
        expect(res.status).toBe(415);
        const { error } = (await res.json()) as { error: { code: string; message: string } };
        expect(error.code).toBe('unsupported_media_type');
        expect(error.message).toContain('application/x-www-form-urlencoded');
      }
      expect((await signInForm(web.url, TOKEN)).status).toBe(303);
      expect((await overview(web.url, bearer(TOKEN))).status).toBe(200);
    } finally {
      await web.close();
    }
  });

  it("behind a proxy (TRUST_PROXY=true) count the client's forwarded address: the operator at another keeps the API", async () => {
    const web = await startWebBot({ OPENAI_BASE_URL: ai.url, ADMIN_TOKEN: TOKEN, TRUST_PROXY: 'true' });
    try {
      for (let i = 0; i < 10; i++) expect((await overview(web.url, bearer(wrong(i), '203.0.113.7'))).status).toBe(401);
      const refused = await overview(web.url, bearer(TOKEN, '203.0.113.7'));
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await overview(web.url, bearer(TOKEN, '198.51.100.20'))).status).toBe(200);
    } finally {
      await web.close();
    }
  });
});
