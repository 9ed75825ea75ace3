/**
 * `parley simulate`'s one request: a POST with a deadline on the whole of it (the answer's body
 * too), so a server that takes the connection and never answers is one line and exit 1, not a hang.
 */

/** A running parley acks within 3 s (Intercom's limit is the longest); 10 s is a stuck server. */
export const SIMULATE_TIMEOUT_MS = 10_000;

export interface Answer {
  status: number;
  ok: boolean;
  text: string;
}

/** The server's answer, or the one line to print (exit 1) when there is none. */
export async function post(url: string, init: { headers: Record<string, string>; body: string }): Promise<Answer | { problem: string }> {
  try {
    const res = await fetch(url, { method: 'POST', ...init, signal: AbortSignal.timeout(SIMULATE_TIMEOUT_MS) });
    return { status: res.status, ok: res.ok, text: await res.text() };
  } catch (error) {
    const e = error as Error;
    if (e.name === 'TimeoutError') return { problem: `no answer from ${url} within ${SIMULATE_TIMEOUT_MS / 1000} s: the server took the connection but did not answer. Is it stuck, or is --url another program's port?` };
    return { problem: `could not reach ${url}: ${e.message}. Is the server running (npm start)?` };
  }
}
