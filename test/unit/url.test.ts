import { describe, expect, it } from 'vitest';
import { publicPathOf, type HttpRequest } from '../../src/adapter.js';
import { originForm, requestUrl, requestUrls, routePath } from '../../src/http/url.js';

const forwarded = { host: 'internal:3000', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'bot.example.com' };

describe('requestUrl', () => {
  it('uses the Host header and plain http by default', () => {
    expect(requestUrl('/slack/events?a=1&b=2', { host: 'example.org:8080' }, false, { trustProxy: false }).href).toBe(
      'http://example.org:8080/slack/events?a=1&b=2',
    );
  });

  it('uses https when the socket is encrypted', () => {
    expect(requestUrl('/x', { host: 'example.org' }, true, { trustProxy: false }).href).toBe('https://example.org/x');
  });

  it('ignores X-Forwarded-* unless the proxy is trusted', () => {
    expect(requestUrl('/hook', forwarded, false, { trustProxy: false }).href).toBe('http://internal:3000/hook');
  });

  it('uses X-Forwarded-Proto and X-Forwarded-Host when the proxy is trusted', () => {
    expect(requestUrl('/hook?x=1', forwarded, false, { trustProxy: true }).href).toBe('https://bot.example.com/hook?x=1');
  });

  it('takes the first (client-most) value of a forwarded list', () => {
    const headers = { host: 'internal', 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'public.example.com, proxy.local' };
    expect(requestUrl('/a', headers, false, { trustProxy: true }).href).toBe('https://public.example.com/a');
  });

  it('reads X-Forwarded-Proto whatever its case (HTTPS is https)', () => {
    expect(requestUrl('/a', { ...forwarded, 'x-forwarded-proto': 'HTTPS' }, false, { trustProxy: true }).href).toBe('https://bot.example.com/a');
  });

  it('falls back to Host and the socket when a trusted proxy sends no forwarded headers', () => {
    expect(requestUrl('/a', { host: 'h.example' }, true, { trustProxy: true }).href).toBe('https://h.example/a');
  });

  it('PUBLIC_URL wins over Host and forwarded headers, keeping its path prefix', () => {
    const options = { trustProxy: true, publicUrl: 'https://bot.example.com/parley/' };
    expect(requestUrl('/slack/events?x=1', forwarded, false, options).href).toBe('https://bot.example.com/parley/slack/events?x=1');
    expect(requestUrl('/w', { host: 'evil.example' }, false, { trustProxy: false, publicUrl: 'https://bot.example.com' }).href).toBe(
      'https://bot.example.com/w',
    );
  });

  it('uses localhost when there is no Host header or it is not a host at all', () => {
    expect(requestUrl('/a', {}, false, { trustProxy: false }).href).toBe('http://localhost/a');
    expect(requestUrl('/a', { host: 'bad host with spaces' }, false, { trustProxy: false }).href).toBe('http://localhost/a');
    // Shaped like a host, but no URL can hold it: not a 500.
    for (const host of ['localhost:99999', '1.2.3.4.5', '999.1.1.1']) expect(requestUrl('/a', { host }, false, { trustProxy: false }).href).toBe('http://localhost/a');
  });

  it('a Host header cannot change the path or query the router sees', () => {
    for (const host of ['example.com/admin?', 'example.com#', 'example.com/x/']) {
      const url = requestUrl('/test/hook?sig=1', { host }, false, { trustProxy: false });
      expect(url.pathname, `Host: ${host}`).toBe('/test/hook');
      expect(url.search, `Host: ${host}`).toBe('?sig=1');
    }
  });

  it("keeps the URL as it came beside the parsed one (what Twilio signed: new URL() turns ' into %27)", () => {
    const query = "/hook?name=William+O'hara";
    const plain = requestUrls(query, { host: 'bot.example.com' }, true, { trustProxy: false });
    expect(plain.received).toBe(`https://bot.example.com${query}`);
    expect(plain.url.href).toBe('https://bot.example.com/hook?name=William+O%27hara');
    expect(requestUrls(query, {}, false, { trustProxy: false, publicUrl: 'https://bot.example.com/parley' }).received).toBe(`https://bot.example.com/parley${query}`);
    expect(requestUrls(query, { host: 'localhost:99999' }, false, { trustProxy: false }).received).toBe(`http://localhost${query}`);
  });

  it('a trusted X-Forwarded-Host cannot change the path either', () => {
    const url = requestUrl('/test/hook', { host: 'internal', 'x-forwarded-host': 'example.com/other?' }, false, { trustProxy: true });
    expect(url.pathname).toBe('/test/hook');
  });
});

describe('mount prefixes', () => {
  const publicUrl = 'https://bot.example.com/parley/';

  it('PUBLIC_URL with a path: the public URL holds its path once, whether the proxy kept it or stripped it', () => {
    const options = { trustProxy: false, publicUrl };
    expect(requestUrl('/twilio/whatsapp?x=1', {}, false, options).href).toBe('https://bot.example.com/parley/twilio/whatsapp?x=1');
    expect(requestUrl('/parley/twilio/whatsapp?x=1', {}, false, options).href).toBe('https://bot.example.com/parley/twilio/whatsapp?x=1');
    // Only a whole segment is the prefix.
    expect(requestUrl('/parleyx/a', {}, false, options).href).toBe('https://bot.example.com/parley/parleyx/a');
  });

  it('routePath takes PUBLIC_URL\'s path off when the request still carries it', () => {
    expect(routePath('/parley/slack/events', { publicUrl })).toBe('/slack/events');
    expect(routePath('/parley', { publicUrl })).toBe('/');
    expect(routePath('/slack/events', { publicUrl })).toBe('/slack/events');
    expect(routePath('/parleyx/a', { publicUrl })).toBe('/parleyx/a');
    expect(routePath('/parley/a', {})).toBe('/parley/a');
    expect(routePath('/parley/a', { publicUrl: 'https://bot.example.com' })).toBe('/parley/a');
  });

  it('publicPathOf puts a path of parley\'s behind the request\'s own mount prefix', () => {
    const request = (url: string, path?: string): HttpRequest => ({ method: 'GET', url: new URL(url), path, headers: {}, body: Buffer.alloc(0) });
    expect(publicPathOf(request('http://h/bot/console/login', '/console/login'), '/console')).toBe('/bot/console');
    expect(publicPathOf(request('http://h/a/b/slack/install', '/slack/install'), '/slack')).toBe('/a/b/slack');
    expect(publicPathOf(request('http://h/console/login', '/console/login'), '/console')).toBe('/console');
    expect(publicPathOf(request('http://h/console/login'), '/console')).toBe('/console');
    // Express hands `/` to a middleware mounted at /bot for a request to /bot.
    expect(publicPathOf(request('http://h/bot', '/'), '/web')).toBe('/bot/web');
    expect(publicPathOf(request('http://h/bot/', '/'), '/web')).toBe('/bot/web');
  });
});

describe('originForm', () => {
  it('takes the scheme and host off a request target in absolute form, and leaves origin form alone', () => {
    expect(originForm('http://bot.example.com/slack/events?a=1')).toBe('/slack/events?a=1');
    expect(originForm('HTTPS://bot.example.com:8443/x')).toBe('/x');
    expect(originForm('http://bot.example.com')).toBe('/');
    expect(originForm('http://bot.example.com?q=1')).toBe('/?q=1');
    expect(originForm('/healthz?x=http://a/b')).toBe('/healthz?x=http://a/b');
    expect(originForm('*')).toBe('*');
  });
});
