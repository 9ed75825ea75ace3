/**
 * What the console serves as pages and files: the app and sign-in pages, the fixed list of
 * assets, and the security headers every console answer carries.
 */
import { readFile } from 'node:fs/promises';
import type { HttpResponse } from '../adapter.js';
import { escapeHtml } from '../http/cookies.js';
import { jsonError } from '../http/responses.js';

/** The page's script, console.js, and the ES modules it imports. */
const SCRIPTS = ['console.js', 'api.js', 'dom.js', 'format.js', 'overview.js', 'chart.js', 'budgets.js', 'budget-limits.js', 'conversations.js', 'dead-letters.js', 'clamp.js'];
/** What /console/assets/<name> serves: these and nothing else (a fixed list: no path is ever built from the URL). */
const ASSETS = new Map<string, string>([['console.css', 'text/css; charset=utf-8'], ...SCRIPTS.map((name): [string, string] => [name, 'text/javascript; charset=utf-8'])]);
/** The page runs only its own script and style, cannot be framed, and posts only to itself. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export async function signInPage(status: number, error: string, home: string): Promise<HttpResponse> {
  const html = (await page('login.html', home)).body as string;
  // The error is the field's description and marks it invalid: the focus lands on the field (autofocus), so a
  // screen reader reads the error with it; a role=alert already in a page as it loads is not reliably announced.
  const invalid = error ? ' aria-invalid="true" aria-describedby="signin-error"' : '';
  return { status, headers: { 'content-type': 'text/html; charset=utf-8' }, body: html.replace('{{error}}', escapeHtml(error)).replace('{{invalid}}', invalid) };
}

/** A page, its links under `home` (the console's path as the browser sees it, mount prefix included). */
export async function page(name: string, home: string): Promise<HttpResponse> {
  const html = (await assetText(name)).replaceAll('{{home}}', escapeHtml(home));
  return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: html };
}

export async function asset(name: string): Promise<HttpResponse> {
  const type = ASSETS.get(name);
  if (!type) return jsonError(404, 'not_found', `No console asset ${name}.`);
  return { status: 200, headers: { 'content-type': type }, body: await assetText(name) };
}

const cache = new Map<string, Promise<string>>();
function assetText(name: string): Promise<string> {
  let text = cache.get(name);
  if (!text) {
    text = readFile(new URL(`./assets/${name}`, import.meta.url), 'utf8');
    text.catch(() => cache.delete(name));
    cache.set(name, text);
  }
  return text;
}

export function secured(response: HttpResponse): HttpResponse {
  return { ...response, headers: { ...SECURITY_HEADERS, ...response.headers } };
}
