/**
 * The console's dead letters come a page at a time: an AI outage of a day leaves thousands, and
 * the whole list (each letter's text and payload) was one answer of megabytes that the tab took
 * tens of seconds to lay out. `GET /console/api/dead-letters` answers the oldest `limit` (default
 * 100, held within 1…1000), how many there are (`count`) and whether more are left out (`more`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterPage } from '../../src/console/api.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const TOKEN = 'console-dead-letter-page-token-5c2e';
const LETTERS = 1050;

type Page = DeadLetterPage;

describe("the console's dead letters, a page at a time", () => {
  let web: WebBot;

  beforeAll(async () => {
    web = await startWebBot({ ADMIN_TOKEN: TOKEN, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    const start = Date.parse('2026-12-01T00:00:00Z');
    for (let n = 0; n < LETTERS; n++) {
      const id = `d${String(n).padStart(4, '0')}`;
      const message = { id, platform: 'web', conversation: { platform: 'web', id: `c${n}` }, user: { id: `u${n}` }, text: `question ${n} ${'words '.repeat(200)}`, receivedAt: new Date(start + n * 1000).toISOString() };
      await web.bot.queue.addDeadLetter({ id, group: `web:c${n}`, data: { type: 'message', message } as never, error: 'AiError: AI provider answered 500', reason: 'attempts_exhausted', attempts: 3, failedAt: new Date(start + n * 1000).toISOString() });
    }
  });
  afterAll(async () => {
    await web?.close();
  });

  async function page(query: string): Promise<Page> {
    const res = await fetch(`${web.url}/console/api/dead-letters${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status, query).toBe(200);
    return (await res.json()) as Page;
  }
  const ids = (found: Page) => found.deadLetters.map((d) => d.id);

  it('answers the oldest 100 by default, with how many there are and that more are left out', async () => {
    const first = await page('');
    expect(first.count).toBe(LETTERS);
    expect(first.more).toBe(true);
    expect(ids(first)).toEqual(Array.from({ length: 100 }, (_, n) => `d${String(n).padStart(4, '0')}`));
    expect(first.deadLetters[0]).toMatchObject({ platform: 'web', user: 'u0', reason: 'attempts_exhausted', attempts: 3 });
  });

  it('takes a limit, held within 1…1000 as the other lists are; one that is no number is the default', async () => {
    expect(ids(await page('?limit=250'))).toHaveLength(250);
    expect(await page('?limit=250')).toMatchObject({ count: LETTERS, more: true });
    expect(ids(await page('?limit=0'))).toEqual(['d0000']);
    expect(ids(await page('?limit=2.9'))).toEqual(['d0000', 'd0001']);
    expect(ids(await page('?limit=many'))).toHaveLength(100);
    const most = await page('?limit=5000');
    expect(ids(most)).toHaveLength(1000);
    expect(most).toMatchObject({ count: LETTERS, more: true });
  });

  it('says no more are left out once the page holds them all', async () => {
    await web.bot.queue.purge();
    expect(await page('')).toEqual({ deadLetters: [], count: 0, more: false });
  });
});
