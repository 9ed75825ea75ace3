/**
 * Where the keyboard focus goes when what held it goes away, in a real browser (Debian's chromium
 * through playwright-core) against a real bot (web chat adapter, memory defaults, the console on) and
 * the fake OpenAI server. A keyboard or screen-reader user whose focus falls to the page's body
 * starts again at its top. One bot and one browser for the file.
 * - the web chat: a 👍/👎 pressed by keyboard (its bar is drawn again), Skip and Send of a 👎's
 *   reason, and a conversation deleted from its confirm dialog;
 * - the console: a dead letter dropped or replayed (its row goes), Purge… (the button is disabled
 *   once none is left), Show more (gone once every letter, or every conversation, is listed), a transcript opened from its row and closed again; its status line is a live
 *   region in the accessibility tree before its first message, and its green text reads at 4.5:1.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { contrastOf } from '../helpers/contrast.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN_TOKEN = 'a11y-test-admin-token-0123456789abcdef';
const POLL = { timeout: 10_000, interval: 50 };

let browser: Browser;
let ai: FakeOpenAi;
let web: WebBot;
const contexts: BrowserContext[] = [];
const errors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH`);
  ai = await startFakeOpenAi();
  web = await startWebBot({ ADMIN_TOKEN, OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'gpt-4o-mini', CACHE_TTL_SECONDS: '0' });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'] });
}, 30_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await web?.close();
  await ai?.close();
});

async function open(url: string, options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  contexts.push(context);
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console error on ${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  await page.goto(url);
  return page;
}

/** The focused element: its tag, id, data-testid and accessible-ish name ("BODY" when the focus was lost). */
const focused = (page: Page) =>
  page.evaluate<string>(`(() => { const a = document.activeElement; if (!a || a === document.body) return 'BODY';
    return [a.tagName, a.id && '#' + a.id, a.dataset.testid && '[' + a.dataset.testid + ']', a.closest('tr[data-id]') ? ' in ' + a.closest('tr[data-id]').dataset.id : '', a.getAttribute('aria-label') ? ' ' + a.getAttribute('aria-label') : ''].join(''); })()`);

describe('the web chat keeps the focus', () => {
  let page: Page;

  it('on the rating pressed by keyboard (👍, 👎), back on 👎 after Skip or Send of its reason', async () => {
    page = await open(`${web.url}/`);
    await page.locator('#input').fill('rate me');
    await page.locator('#input').press('Enter');
    const answer = page.locator('.msg.assistant', { hasText: 'echo: rate me' });
    await answer.locator('.feedback').waitFor({ timeout: 10_000 });
    const good = answer.getByRole('button', { name: 'Good answer' });
    const bad = answer.getByRole('button', { name: 'Bad answer' });

    await good.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => good.getAttribute('aria-pressed'), POLL).toBe('true');
    expect(await focused(page)).toBe('BUTTON Good answer');

    // 👎 asks why, in a box that takes the focus; Skip leaves the 👎 pressed, with the focus on it.
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('BUTTON Bad answer');
    await page.keyboard.press('Enter');
    await expect.poll(() => focused(page), POLL).toBe('TEXTAREA What was wrong with this answer?');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip');
    await page.keyboard.press('Enter');
    await expect.poll(() => answer.locator('.thanks').textContent(), POLL).toBe('Thanks for the feedback.');
    expect(await focused(page)).toBe('BUTTON Bad answer');

    // The reason sent: the focus is on the 👎 again.
    await page.keyboard.press('Enter');
    await expect.poll(() => focused(page), POLL).toBe('TEXTAREA What was wrong with this answer?');
    await page.keyboard.type('too short');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Send');
    await page.keyboard.press('Enter');
    await expect.poll(() => answer.locator('.thanks').textContent(), POLL).toBe('Thanks — we will look into it.');
    expect(await focused(page)).toBe('BUTTON Bad answer');
    expect(await bad.getAttribute('aria-pressed')).toBe('true');
    expect(errors).toEqual([]);
  });

  it('in the message box once the conversation is deleted from the confirm dialog (Escape cancels back to Delete chat)', async () => {
    const remove = page.getByRole('button', { name: 'Delete chat' });
    await remove.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await focused(page)).toBe('BUTTON#confirm-delete-no');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await focused(page)).toBe('BUTTON#delete');

    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('BUTTON#confirm-delete-yes');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#status').textContent(), POLL).toBe('Conversation deleted.');
    expect(await remove.isDisabled()).toBe(true);
    expect(await focused(page)).toBe('TEXTAREA#input');
    // Typed straight away: a new conversation.
    await page.keyboard.type('after the delete');
    await page.keyboard.press('Enter');
    await page.locator('.msg.assistant', { hasText: 'echo: after the delete' }).waitFor({ timeout: 10_000 });
    expect(errors).toEqual([]);
  });
});

describe('the console keeps the focus', () => {
  let page: Page;
  const rows = () => page.locator('#dead-letter-rows [data-testid="dead-letter"]');
  const status = () => page.locator('[data-testid="status"]').textContent();

  beforeAll(async () => {
    for (const n of [1, 2, 3]) {
      const id = `a11y-dead-${n}`;
      const receivedAt = new Date(Date.now() - (10 - n) * 1000).toISOString();
      const message = { id, platform: 'web', conversation: { platform: 'web', id: `a11y-conv-${n}` }, user: { id: `a11y-user-${n}` }, text: `question ${n}`, receivedAt };
      await web.bot.queue.addDeadLetter({ id, group: `web:a11y-conv-${n}`, data: { type: 'message', message } as never, error: 'AiError: AI provider answered 500', reason: 'attempts_exhausted', attempts: 2, failedAt: receivedAt });
    }
    expect((await web.post('a11y-transcript', 'hello console')).status).toBeLessThan(300);
    await web.waitFor('a11y-transcript', (entries) => entries.some((e) => e.role === 'assistant'));
  });

  it('signs in by keyboard through a labelled field', async () => {
    page = await open(`${web.url}/console`);
    const token = page.getByRole('textbox', { name: 'Admin token' });
    await token.waitFor();
    expect(await focused(page)).toBe('INPUT[token]');
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.locator('#view-overview').waitFor({ state: 'visible' });
    expect(errors).toEqual([]);
  });

  it('has its status line in the accessibility tree while it is empty (taking no room), so that its first message is announced', async () => {
    const line = page.locator('[data-testid="status"]');
    expect(await line.textContent()).toBe('');
    expect(await page.getByRole('status').count()).toBe(1);
    expect(await page.evaluate<number>("document.querySelector('[data-testid=\"status\"]').getBoundingClientRect().height")).toBe(0);
    expect(await page.locator('main').ariaSnapshot()).toMatch(/^ {2}- status$/m);
  });

  it('on the next letter\'s button once a dead letter is dropped or replayed, on the heading once Purge… leaves none; the status line reads at 4.5:1', async () => {
    await page.getByRole('link', { name: 'Dead letters' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => rows().count(), POLL).toBe(3);

    // Drop…: Escape keeps the letter and the focus on its button; Drop deletes it and the focus goes to the next letter's Drop….
    await rows().first().locator('[data-testid="drop"]').focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="drop-dialog"]').waitFor({ state: 'visible' });
    expect(await focused(page)).toBe('BUTTON[drop-cancel]');
    await page.keyboard.press('Escape');
    await expect.poll(status, POLL).toBe('Drop cancelled: dead letter a11y-dead-1 is kept.');
    expect(await focused(page)).toBe('BUTTON[drop] in a11y-dead-1');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('BUTTON[drop-confirm]');
    await page.keyboard.press('Enter');
    await expect.poll(status, POLL).toBe('Dropped dead letter a11y-dead-1.');
    await expect.poll(() => rows().count(), POLL).toBe(2);
    expect(await focused(page)).toBe('BUTTON[drop] in a11y-dead-2');

    // Replay: the letter goes; the focus to the next letter's Replay.
    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).toBe('BUTTON[replay] in a11y-dead-2');
    await page.keyboard.press('Enter');
    await expect.poll(status, POLL).toBe('Replayed dead letter a11y-dead-2: the message is queued again.');
    await expect.poll(() => rows().count(), POLL).toBe(1);
    expect(await focused(page)).toBe('BUTTON[replay] in a11y-dead-3');
    // The status line's green on its pale green.
    expect(await page.evaluate<number>(contrastOf('[data-testid="status"]'))).toBeGreaterThanOrEqual(4.5);

    // Purge…: none left, the button disabled; the focus on the tab's heading.
    await page.locator('[data-testid="purge"]').focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="purge-dialog"]').waitFor({ state: 'visible' });
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('BUTTON[purge-confirm]');
    await page.keyboard.press('Enter');
    await expect.poll(status, POLL).toBe('Purged 1 dead letter.');
    await expect.poll(() => page.locator('[data-testid="purge"]').isDisabled(), POLL).toBe(true);
    await expect.poll(() => focused(page), POLL).toBe('H2#dead-letters-title');
    expect(errors).toEqual([]);
  }, 30_000);

  it('on the first letter "Show more" added when, all listed, it is gone', async () => {
    const start = Date.now() - 3_600_000;
    for (let n = 0; n < 150; n++) {
      const id = `a11y-more-${String(n).padStart(3, '0')}`;
      const receivedAt = new Date(start + n * 1000).toISOString();
      const message = { id, platform: 'web', conversation: { platform: 'web', id }, user: { id }, text: `question ${n}`, receivedAt };
      await web.bot.queue.addDeadLetter({ id, group: `web:${id}`, data: { type: 'message', message } as never, error: 'AiError: AI provider answered 500', reason: 'attempts_exhausted', attempts: 2, failedAt: receivedAt });
    }
    await page.locator('[data-testid="dead-refresh"]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => rows().count(), POLL).toBe(100);
    await page.locator('[data-testid="dead-show-more"]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => rows().count(), POLL).toBe(150);
    expect(await page.locator('[data-testid="dead-show-more"]').isVisible()).toBe(false);
    await expect.poll(() => focused(page), POLL).toMatch(/^BUTTON.* in a11y-more-100$/);
    await web.bot.queue.purge();
    expect(errors).toEqual([]);
  }, 30_000);

  it('"Show more" is not undone by a reload that starts while it loads (the live overview\'s, on a new dead letter)', async () => {
    const start = Date.now() - 3_600_000;
    for (let n = 0; n < 150; n++) {
      const id = `a11y-race-${String(n).padStart(3, '0')}`;
      const receivedAt = new Date(start + n * 1000).toISOString();
      const message = { id, platform: 'web', conversation: { platform: 'web', id }, user: { id }, text: `question ${n}`, receivedAt };
      await web.bot.queue.addDeadLetter({ id, group: `web:${id}`, data: { type: 'message', message } as never, error: 'AiError: AI provider answered 500', reason: 'attempts_exhausted', attempts: 2, failedAt: receivedAt });
    }
    await page.reload(); // the tab as opened: 100 listed
    await expect.poll(() => rows().count(), POLL).toBe(100);
    // "Show more"'s answer held back until the reload started after it has been answered.
    let releaseMore!: () => void;
    const moreHeld = new Promise<void>((resolve) => (releaseMore = resolve));
    await page.route(/\/console\/api\/dead-letters\?limit=200$/, async (route) => {
      await moreHeld;
      await route.continue();
    }, { times: 1 });
    await page.locator('[data-testid="dead-show-more"]').focus();
    await page.keyboard.press('Enter');
    const reload = page.waitForResponse((response) => response.url().includes('/console/api/dead-letters?limit='));
    await page.evaluate("document.getElementById('dead-refresh').click()"); // what the live overview does on a new dead letter
    await reload;
    releaseMore();
    await expect.poll(() => rows().count(), POLL).toBe(150);
    await expect.poll(() => focused(page), POLL).toMatch(/^BUTTON.* in a11y-race-100$/);
    await page.unroute(/\/console\/api\/dead-letters/);
    await web.bot.queue.purge();
    expect(errors).toEqual([]);
  }, 30_000);

  it('on the transcript opened from its row\'s link by keyboard, and back on that link when it is closed', async () => {
    await page.getByRole('link', { name: 'Conversations' }).focus();
    await page.keyboard.press('Enter');
    const row = page.locator('#conversation-rows tr[data-id="a11y-transcript"]');
    await row.waitFor();
    // The row's link (its last exchange's time) is the keyboard's way in.
    await row.locator('a[data-testid="conversation-open"]').focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="transcript"]').waitFor({ state: 'visible' });
    await expect.poll(() => focused(page), POLL).toBe('H2#transcript-title');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('BUTTON#transcript-close[transcript-close]');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="transcript"]').waitFor({ state: 'hidden' });
    expect(await focused(page)).toBe('A[conversation-open] in a11y-transcript');
    expect(errors).toEqual([]);
  });

  it('on the first conversation "Show more" added when, all listed, it is gone', async () => {
    for (let n = 0; n < 60; n++) {
      const timestamp = new Date(Date.now() - 60_000 - n * 1000).toISOString();
      await web.bot.conversationLog.record({ conversationId: `a11y-many-${n}`, timestamp, platform: 'web', user: `many-${n}`, input: `question ${n}`, output: `answer ${n}`, model: 'gpt-4o-mini', inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 10 });
    }
    const total = (await web.bot.conversationLog.search!({ limit: 500 })).length;
    expect(total).toBeGreaterThan(50);
    expect(total).toBeLessThanOrEqual(100);
    const rows = page.locator('#conversation-rows tr[data-testid="conversation"]');
    await page.locator('[data-testid="filter-sort"]').selectOption('recent');
    await expect.poll(() => rows.count(), POLL).toBe(50);
    await page.locator('[data-testid="show-more"]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => rows.count(), POLL).toBe(total);
    expect(await page.locator('[data-testid="show-more"]').isVisible()).toBe(false);
    await expect.poll(() => focused(page), POLL).toBe(`A[conversation-open] in ${await rows.nth(50).getAttribute('data-id')}`);
    expect(errors).toEqual([]);
  });

  it("the status line's green on its pale green reads at 4.5:1 in the light and the dark theme", async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.evaluate("document.querySelector('[data-testid=\"status\"]').textContent = 'A message.'");
    expect(await page.evaluate<number>(contrastOf('[data-testid="status"]'))).toBeGreaterThanOrEqual(4.5);
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await page.evaluate<number>(contrastOf('[data-testid="status"]'))).toBeGreaterThanOrEqual(4.5);
  });
});
