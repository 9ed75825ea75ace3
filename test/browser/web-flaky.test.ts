/**
 * The web chat page on a flaky connection, in a real browser (Debian's chromium through
 * playwright-core) against a real bot (memory defaults) and the fake OpenAI server:
 * - a message whose POST reached the server but whose answer (the 202) was lost: the page sends it
 *   again with its id by itself, and it is shown and answered once, with no "not sent" on show;
 * - a message refused with 503 (its store stalled): sent again by the page with its id;
 * - a message sent offline: given back in the box, and sent by itself once the browser is back online
 *   (unless the visitor changed it meanwhile).
 * One browser and one bot for the file.
 */
import { createHash } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';
import { MemoryStore } from '../../src/index.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A store that fails the claims of the messages named in `stall` once each (Redis stalled as the message came in). */
class StallingStore extends MemoryStore {
  readonly stall = new Set<string>();
  override async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    for (const text of this.stall) {
      if (key.startsWith('parley:web:first:') && key.endsWith(text)) {
        this.stall.delete(text);
        throw new Error('Command timed out');
      }
    }
    return super.setIfAbsent(key, value, ttlMs);
  }
}

let browser: Browser;
let ai: FakeOpenAi;
let web: WebBot;
const store = new StallingStore();

beforeAll(async () => {
  ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call)}` }));
  web = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'gpt-4o-mini', CACHE_TTL_SECONDS: '0' }, { store });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await ai?.close();
});

/** The end of a first message's claim key (transcript.ts: its text hashed). */
const firstKeyOf = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/** The messages on show, as text: their words alone (not the hidden speaker label, nor the 👍/👎 under answers). */
const shown = (page: Page) => page.locator('.msg > .text').allTextContents();

describe('a message whose 202 was lost', () => {
  it('is sent again by the page with its id: shown and answered once, and the visitor is not told it was not sent', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    let lost = 0;
    // The first POST reaches the server (it is taken), then its answer is lost on the way back.
    await page.route('**/web/messages', async (route) => {
      if (lost++ > 0) return route.continue();
      await route.fetch();
      await route.abort('connectionreset');
    });
    await page.goto(`${web.url}/`);
    await page.locator('#input').fill('hello through a tunnel');
    await page.locator('#send').click();
    await page.locator('.msg.assistant', { hasText: 'echo: hello through a tunnel' }).waitFor({ timeout: 15_000 });
    expect(lost).toBe(2);
    expect(await shown(page)).toEqual(['hello through a tunnel', 'echo: hello through a tunnel']);
    expect(await page.locator('#status').textContent()).toBe('');
    expect(await page.locator('#input').inputValue()).toBe('');
    expect(ai.calls.filter((call) => lastUserText(call) === 'hello through a tunnel')).toHaveLength(1);
    await context.close();
  }, 30_000);
});

describe('a message refused with 503 (the store stalled as it came in)', () => {
  it('is sent again by the page with its id after a moment, shown and answered once, without the visitor typing it again', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const statuses: number[] = [];
    page.on('response', (res) => void (res.url().endsWith('/web/messages') && statuses.push(res.status())));
    await page.goto(`${web.url}/`);
    store.stall.add(firstKeyOf('hello during a stall'));
    await page.locator('#input').fill('hello during a stall');
    await page.locator('#send').click();
    await page.locator('.msg.assistant', { hasText: 'echo: hello during a stall' }).waitFor({ timeout: 20_000 });
    expect(statuses).toEqual([503, 202]);
    expect(await shown(page)).toEqual(['hello during a stall', 'echo: hello during a stall']);
    expect(await page.locator('#status').textContent()).toBe('');
    expect(await page.locator('#input').inputValue()).toBe('');
    await context.close();
  }, 30_000);
});

describe('a message sent while the browser is offline', () => {
  /** Send `text` offline and wait until the page gives it back (its own retries over, about 7 s). */
  async function sendOffline(page: Page, text: string): Promise<void> {
    await page.goto(`${web.url}/`);
    await expect.poll(() => page.locator('#status').textContent()).toBe('');
    await page.context().setOffline(true);
    await page.locator('#input').fill(text);
    await page.locator('#send').click();
    await page.locator('#status', { hasText: 'Cannot reach the server' }).waitFor({ timeout: 20_000 });
    expect(await page.locator('#input').inputValue()).toBe(text);
  }

  it('is given back, then sent by itself when the browser is back online: shown and answered once', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await sendOffline(page, 'hello from a train');
    await context.setOffline(false);
    await page.locator('.msg.assistant', { hasText: 'echo: hello from a train' }).waitFor({ timeout: 15_000 });
    expect(await shown(page)).toEqual(['hello from a train', 'echo: hello from a train']);
    expect(await page.locator('#input').inputValue()).toBe('');
    expect(ai.calls.filter((call) => lastUserText(call) === 'hello from a train')).toHaveLength(1);
    await context.close();
  }, 45_000);

  it('is not sent by itself once the visitor has changed it: it waits for them', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await sendOffline(page, 'hello from a tunnel');
    await page.locator('#input').fill('hello from a tunnel, edited');
    const posts: string[] = [];
    page.on('request', (req) => void (req.url().endsWith('/web/messages') && posts.push(req.method())));
    await context.setOffline(false);
    // The page's own 'online' event has run once this evaluation (queued after it) returns.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    await page.locator('#send').click();
    await page.locator('.msg.assistant', { hasText: 'echo: hello from a tunnel, edited' }).waitFor({ timeout: 15_000 });
    expect(posts).toEqual(['POST']);
    expect(ai.calls.some((call) => lastUserText(call) === 'hello from a tunnel')).toBe(false);
    await context.close();
  }, 45_000);
});
