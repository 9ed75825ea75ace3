/**
 * The web chat adapter's `caller()` on the app's own routes: a `?token=` or `?session=` there may be
 * the route's own parameter (a page of results, a checkout session), and the visitor's cookie still
 * says who is asking; WEB_TOKEN or a session's token in that URL is refused as on the chat's routes.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import type { HttpRequest } from '../../src/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { testEnv } from '../helpers/web-bot.js';

const OPERATOR = 'operator-token-of-some-length-0123456789';
const SECRET = 'a-session-secret-of-32-characters-or-more';

describe("web chat: caller() on the app's own routes", () => {
  const chat = webChat({ page: true, token: OPERATOR });
  let bot: Bot;
  let url: string;
  beforeAll(async () => {
    bot = createBot({ config: loadConfig({ ...testEnv, WEB_TOKEN: OPERATOR, WEB_SESSION_SECRET: SECRET }), adapters: [chat] });
    const server = await bot.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await bot.close();
  });

  /** A GET of the app's own `path` from a visitor's browser (another address, its cookie). */
  const own = (path: string, cookie: string): HttpRequest => ({ method: 'GET', url: new URL(path, 'https://shop.example'), headers: { host: 'shop.example', cookie }, body: Buffer.alloc(0), remoteAddress: '203.0.113.9' });
  const outcome = (request: HttpRequest) =>
    chat.caller(request).then(
      (caller) => (caller.kind === 'visitor' ? `visitor ${caller.visitor}` : caller.kind),
      (error: { status?: number; code?: string; message?: string }) => `${error.status} ${/not taken from a URL/.test(error.message ?? '') ? 'token_in_url' : error.message}`,
    );

  it("a query parameter of the route's own named token or session: the visitor, by the cookie", async () => {
    const started = await fetch(`${url}/web/sessions`, { method: 'POST' });
    const session = (await started.json()) as { token: string; streamToken: string; renewToken: string; visitor: string };
    const cookie = started.headers.get('set-cookie')!.split(';')[0]!;
    expect(await outcome(own('/orders', cookie))).toBe(`visitor ${session.visitor}`);
    expect(await outcome(own('/orders?token=page-2', cookie))).toBe(`visitor ${session.visitor}`);
    expect(await outcome(own('/checkout/done?session=cs_test_a1b2c3', cookie))).toBe(`visitor ${session.visitor}`);
    // A credential in that URL is refused, as on the chat's own routes (proxies log URLs).
    for (const token of [OPERATOR, session.token, session.renewToken, session.streamToken]) {
      for (const name of ['token', 'session']) expect(await outcome(own(`/orders?${name}=${encodeURIComponent(token)}`, cookie)), name).toBe('401 token_in_url');
    }
    // A route of the app's whose path ends in /events is not the chat's event stream: its `?session=` is its own, a stream token there is refused.
    expect(await outcome(own('/shop/events?session=cs_test_a1b2c3', cookie))).toBe(`visitor ${session.visitor}`);
    for (const found of [own(`/shop/events?session=${session.streamToken}`, cookie), own(`/shop/events?session=${session.streamToken}`, '')]) expect(await outcome(found)).toBe('401 token_in_url');
  });
});
