/**
 * `parley serve` as an ACL user of a private Redis meets it: what /readyz says of one check, and
 * how a web chat message is answered. Shared by the ACL tests (a plain Redis and a Cluster).
 */
import { expect } from 'vitest';
import { startParley } from './processes.js';
import { until } from './until.js';

/** /readyz's body once it answers 503 with `check` matching `reason` (polled until it does). */
export function readyzRefusing(url: string, check: 'store' | 'queue', reason: RegExp, what: string): Promise<{ checks?: Record<string, string> }> {
  return until(async () => {
    const response = await fetch(`${url}/readyz`);
    const body = (await response.json()) as { checks?: Record<string, string> };
    return response.status === 503 && reason.test(body.checks?.[check] ?? '') ? body : undefined;
  }, what);
}

/** The status a web chat message gets from the server at `url`. */
export async function webMessageStatus(url: string): Promise<number> {
  const answer = await fetch(`${url}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ conversation: 'acl', text: 'hi' }) });
  await answer.arrayBuffer();
  return answer.status;
}

/** `parley serve` as the README's ACL user (`env`): ready, a message taken (202), no NOPERM in its log. */
export async function expectServedAs(env: Record<string, string>): Promise<void> {
  const fine = await startParley(['serve'], env);
  try {
    expect(await until(async () => (await fetch(`${fine.url}/readyz`)).status === 200, 'the README ACL ready')).toBe(true);
    expect(await webMessageStatus(fine.url!)).toBe(202);
    expect(fine.logs()).not.toContain('NOPERM');
  } finally {
    await fine.stop();
  }
}
