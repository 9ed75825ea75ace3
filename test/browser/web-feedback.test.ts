/**
 * 👍/👎 under the web chat's answers, in a real browser (Debian's chromium through
 * playwright-core) against a real bot (web chat adapter, memory defaults) and the fake OpenAI
 * server: a 👍 is stored with the exchange; a 👎 opens an inline reason, sent with it; a failed
 * rating comes back unpressed with the error shown; no console errors or CSP violations.
 * Screenshots land in test-results/web-feedback/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = 'test-results/web-feedback';
const POLL = { timeout: 10_000, interval: 50 };

describe('web chat feedback buttons in a browser', () => {
  let browser: Browser;
  let ai: FakeOpenAi;
  let web: WebBot;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH`);
    mkdirSync(SHOTS, { recursive: true });
    ai = await startFakeOpenAi();
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, CACHE_TTL_SECONDS: '0' });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'] });
    page = await (await browser.newContext({ viewport: { width: 900, height: 700 } })).newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 404/.test(message.text())) problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(web.url);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await ai?.close();
  });

  /** Send a message and wait for its answer's bubble. */
  async function say(text: string) {
    await page.locator('#input').fill(text);
    await page.locator('#send').click();
    const answer = page.locator('.msg.assistant', { hasText: `echo: ${text}` });
    await answer.waitFor({ timeout: 10_000 });
    return answer;
  }

  /** The conversation's log entries, oldest first. */
  async function logged() {
    const conversation = await page.evaluate<string | null>("sessionStorage.getItem('parley.conversation')");
    return web.bot.conversationLog.list(conversation!);
  }

  it('a 👍 under an answer is stored with its exchange and shows as pressed', async () => {
    const answer = await say('what are your opening hours?');
    const good = answer.getByRole('button', { name: 'Good answer' });
    const bad = answer.getByRole('button', { name: 'Bad answer' });
    expect(await good.getAttribute('aria-pressed')).toBe('false');
    await good.click();
    await expect.poll(async () => (await logged())[0]?.feedback?.rating, POLL).toBe('good');
    expect(await good.getAttribute('aria-pressed')).toBe('true');
    expect(await bad.getAttribute('aria-pressed')).toBe('false');
    expect(await answer.locator('.feedback .thanks').textContent()).toBe('Thanks for the feedback.');
  });

  it('a 👎 asks why, inline; the reason is sent with the rating and survives a new message arriving', async () => {
    const answer = await say('do you ship to Norway?');
    await answer.getByRole('button', { name: 'Bad answer' }).click();
    const reason = answer.locator('textarea.reason');
    await reason.waitFor();
    await expect.poll(async () => (await logged()).at(-1)?.feedback?.rating, POLL).toBe('bad');
    expect(await page.evaluate<boolean>("document.activeElement?.classList.contains('reason') === true")).toBe(true);
    await reason.fill('We ship to Norway since May.');
    await page.screenshot({ path: `${SHOTS}/reason.png` });

    // another answer arriving re-renders the transcript: the draft stays
    await say('and to Sweden?');
    const again = page.locator('.msg.assistant', { hasText: 'echo: do you ship to Norway?' });
    expect(await again.locator('textarea.reason').inputValue()).toBe('We ship to Norway since May.');
    await again.getByRole('button', { name: 'Send' }).click();
    await expect.poll(async () => (await logged()).find((e) => e.input === 'do you ship to Norway?')?.feedback?.reason, POLL).toBe('We ship to Norway since May.');
    expect(await again.locator('.feedback .thanks').textContent()).toMatch(/^Thanks/);
    expect(await again.locator('textarea.reason').count()).toBe(0);
    await page.screenshot({ path: `${SHOTS}/rated.png` });
  });

  it('a rating the server refuses comes back unpressed, with the reason shown', async () => {
    const answer = await say('a third question');
    // the conversation erased behind the page's back: the exchange is gone from the log
    const conversation = await page.evaluate<string | null>("sessionStorage.getItem('parley.conversation')");
    await expect.poll(async () => (await logged()).some((e) => e.input === 'a third question'), POLL).toBe(true); // recorded just after the answer is posted
    await web.bot.conversationLog.erase!(conversation!);
    const good = answer.getByRole('button', { name: 'Good answer' });
    await good.click();
    await expect.poll(() => page.locator('#status').textContent(), POLL).toBe('No such answer in this conversation.');
    expect(await good.getAttribute('aria-pressed')).toBe('false');
    expect(problems).toEqual([]);
  });
});
