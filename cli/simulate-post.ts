/**
 * `parley simulate`'s one request: a POST with a deadline on the whole of it (the answer's body
 * too), so a server that takes the connection and never answers is one line and exit 1, not a hang.
 * A user and password in --url go as an `Authorization: Basic` header, as curl sends them (fetch
 * refuses a URL holding them), and are never printed.
 */
import { hideUrlCredentials, splitCredentials } from '../src/http/credentials.js';
import { withoutCredentials } from './check-aws.js';
import { whyUnreached } from './unreached.js';

/** A running parley acks within 3 s (Intercom's limit is the longest); 10 s is a stuck server. */
export const SIMULATE_TIMEOUT_MS = 10_000;

export interface Answer {
  status: number;
  ok: boolean;
  text: string;
}

/** The server's answer, or the one line to print (exit 1) when there is none. */
export async function post(url: string, init: { headers: Record<string, string>; body: string }): Promise<Answer | { problem: string }> {
  const shown = shownUrl(url);
  let target;
  try {
    target = splitCredentials(url);
  } catch {
    return { problem: `${JSON.stringify(shown)} is not a URL: give --url as http://host:port/path` };
  }
  const headers = target.authorization ? { authorization: target.authorization, ...init.headers } : init.headers;
  try {
    const res = await fetch(target.url, { method: 'POST', headers, body: init.body, signal: AbortSignal.timeout(SIMULATE_TIMEOUT_MS) });
    return { status: res.status, ok: res.ok, text: await res.text() };
  } catch (error) {
    const e = error as Error;
    if (e.name === 'TimeoutError') return { problem: `no answer from ${shown} within ${SIMULATE_TIMEOUT_MS / 1000} s: the server took the connection but did not answer. Is it stuck, or is --url another program's port?` };
    return { problem: `could not reach ${shown}: ${whyUnreached(e)}. Is the server running (npm start)?` };
  }
}

/** The URL as simulate prints it: a user and password as `…@`, as `parley check` shows them. */
export function shownUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not a URL: whatever reads as a user and password in it is hidden all the same.
    return withoutCredentials(hideUrlCredentials(raw));
  }
  if (!url.username && !url.password) return raw;
  url.username = '';
  url.password = '';
  return url.href.replace('//', '//…@');
}
