/**
 * The operator console as an operator who uses only the keyboard, one with a screen reader (the
 * accessibility tree, through Chromium's DevTools protocol) and one on a phone (390 × 844, touch,
 * text at 200%), in Debian's chromium against a real bot and the fake AI. One browser for the file.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { contrastOf } from '../helpers/contrast.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN_TOKEN = 'console-a11y-admin-token-0123456789';
const POLL = { timeout: 10_000, interval: 50 };
const PHONE = { width: 390, height: 844 };

describe('operator console: keyboard, screen reader, phone', () => {
  let browser: Browser;
  let ai: FakeOpenAi;
  let web: WebBot;
  let aiDown = false;
  const contexts: BrowserContext[] = [];

  async function signedIn(options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${web.url}/console`);
    await page.locator('[data-testid="token"]').fill(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.locator('#view-overview').waitFor({ state: 'visible' });
    return page;
  }

  // (strings: the tests compile without the DOM's types)
  const focused = (page: Page) => page.evaluate<string | undefined>("document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName");

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH`);
    ai = await startFakeOpenAi((call) => (aiDown ? { status: 503 } : { text: `echo: ${lastUserText(call)}` }));
    web = await startWebBot({ ADMIN_TOKEN, OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'gpt-4o-mini', AI_BUDGET_USD_PER_DAY: '5', CACHE_TTL_SECONDS: '0', JOB_ATTEMPTS: '1', AI_ATTEMPTS: '1', AI_BREAKER_THRESHOLD: '100' });
    for (const id of ['a11y-a', 'a11y-b']) {
      expect((await web.post(id, `a question from ${id}`)).status).toBeLessThan(300);
      await web.waitFor(id, (entries) => entries.some((e) => e.role === 'assistant'));
    }
    aiDown = true;
    expect((await web.post('a11y-dead', 'this one fails')).status).toBeLessThan(300);
    const until = Date.now() + 10_000;
    for (;;) {
      const res = await fetch(`${web.url}/console/api/dead-letters`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      if (((await res.json()) as { count: number }).count > 0) break;
      if (Date.now() > until) throw new Error('no dead letter');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    aiDown = false;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  }, 30_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await web?.close();
    await ai?.close();
  });

  it('a wrong token: the focus is back on the token field, which a screen reader reads as invalid, with the error', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${web.url}/console`);
    await page.keyboard.type('not-the-admin-token-at-all');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="signin-error"]:not(:empty)').waitFor();
    expect(await focused(page)).toBe('token');
    // the role=alert is in the page as it loads (not reliably announced): the field itself must say it
    const cdp = await context.newCDPSession(page);
    const { root } = await cdp.send('DOM.getDocument');
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: '[data-testid="token"]' });
    const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false });
    const field = nodes[0]!;
    expect(field.name?.value).toBe('Admin token');
    expect(field.description?.value).toBe('That is not the admin token.');
    expect(field.properties?.find((p) => p.name === 'invalid')?.value.value).toBe('true');
  });

  it('for a screen reader the overview is a region named "Overview", the badge reads "live", and its updates announce nothing and keep the focus', async () => {
    const page = await signedIn();
    const at = page.locator('[data-testid="overview-at"]');
    await expect.poll(async () => (await at.textContent()) ?? '', POLL).toMatch(/^as of /);
    // its time changes every 2 s: not in the region's name
    expect(await page.getByRole('region', { name: 'Overview', exact: true }).count()).toBe(1);
    await expect.poll(() => page.locator('[data-testid="live"]').ariaSnapshot(), POLL).toBe('- text: live');
    // the only live regions are the status line and the stale note (not the figures)
    expect(await page.evaluate<string[]>(`[...document.querySelectorAll('[aria-live], [role=status], [role=alert], [role=log]')].map((e) => e.id)`)).toEqual(['status', 'overview-stale']);
    await page.locator('nav [data-tab="overview"]').focus();
    const first = await at.textContent();
    await expect.poll(async () => (await at.textContent()) !== first, { timeout: 10_000, interval: 100 }).toBe(true);
    expect(await focused(page)).toBe('A');
  });

  it('on a phone with text at 200%, no page scrolls sideways (the overview figures wrap in their cards)', async () => {
    const page = await signedIn({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await page.locator('[data-testid="spend-today"]').filter({ hasText: '$' }).waitFor();
    // The phone's text size at 200%: every font size doubled (no inline style tag: the CSP forbids it).
    await page.evaluate("document.documentElement.style.fontSize = '32px'; document.body.style.fontSize = '28px'");
    for (const view of ['overview', 'conversations', 'dead-letters', 'budgets']) {
      await page.locator(`nav [data-tab="${view}"]`).tap();
      await page.locator(`#view-${view}`).waitFor({ state: 'visible' });
      const filled = { overview: '#overview-budgets li', conversations: '#conversation-rows tr', 'dead-letters': '#dead-letter-rows tr', budgets: '#budget-list li' }[view];
      await page.locator(filled!).first().waitFor();
      // tables scroll inside their own box; nothing else may reach past the screen
      const past = await page.evaluate<string[]>(
        `[...document.querySelectorAll('body *')].filter((e) => e.getClientRects().length > 0 && !e.closest('.table-wrap') && e.getBoundingClientRect().right > ${PHONE.width + 1}).map((e) => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 30))`,
      );
      expect(past, view).toEqual([]);
      expect(await page.evaluate<number>('document.documentElement.scrollWidth'), view).toBeLessThanOrEqual(PHONE.width);
    }
  });

  it('text reads at 4.5:1 in light and dark: link-like buttons open or closed, a conversation\'s link, placeholders, a confirmation\'s button', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const page = await signedIn({ colorScheme });
      await page.locator('nav [data-tab="dead-letters"]').click();
      const toggle = page.locator('[data-testid="payload-toggle"]').first();
      await toggle.waitFor();
      const selector = '#dead-letter-rows [data-testid="payload-toggle"]';
      expect(await page.evaluate<number>(contrastOf(selector)), `${colorScheme}, closed`).toBeGreaterThanOrEqual(4.5);
      await toggle.click();
      await expect.poll(() => toggle.getAttribute('aria-expanded'), POLL).toBe('true');
      expect(await page.evaluate<number>(contrastOf(selector)), `${colorScheme}, open`).toBeGreaterThanOrEqual(4.5);
      await page.locator('[data-testid="purge"]').click();
      await page.locator('#purge-dialog[open]').waitFor();
      expect(await page.evaluate<number>(contrastOf('[data-testid="purge-confirm"]')), `${colorScheme}, Purge`).toBeGreaterThanOrEqual(4.5);
      await page.keyboard.press('Escape');
      await page.locator('#purge-dialog').waitFor({ state: 'hidden' });
      await page.locator('nav [data-tab="budgets"]').click();
      await page.locator('#budget-list li').first().waitFor();
      // the unit of a limit (US$) and the only visible label of the lookup
      for (const input of ['limit-day-input', 'budget-lookup-input']) {
        expect(await page.evaluate<number>(contrastOf(`[data-testid="${input}"]`, '::placeholder')), `${colorScheme}, ${input}'s placeholder`).toBeGreaterThanOrEqual(4.5);
      }
      await page.locator('nav [data-tab="conversations"]').click();
      await page.locator('[data-testid="conversation-open"]').first().waitFor();
      expect(await page.evaluate<number>(contrastOf('#conversation-rows [data-testid="conversation-open"]')), `${colorScheme}, a conversation's link`).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('the focus ring of a section tab is whole: the scrolling tab bar does not clip it', async () => {
    for (const viewport of [{ width: 1280, height: 900 }, PHONE]) {
      const page = await signedIn({ viewport });
      for (const tab of await page.locator('nav [data-tab]').all()) {
        await tab.focus();
        // outline 2px at 2px off the link: all of it inside the box that clips it
        const clipped = await page.evaluate<boolean>(`(() => {
          const link = document.activeElement;
          const style = getComputedStyle(link);
          const ring = parseFloat(style.outlineWidth) + parseFloat(style.outlineOffset);
          const box = link.getBoundingClientRect();
          const clip = link.closest('nav').getBoundingClientRect();
          return style.outlineStyle === 'none' || box.top - ring < clip.top || box.bottom + ring > clip.bottom || box.left - ring < clip.left;
        })()`);
        expect(clipped, `${viewport.width} px, ${await tab.textContent()}`).toBe(false);
      }
    }
  });

  it('each conversation is a link: Tab reaches it, Enter opens the transcript, Close brings the focus back to it', async () => {
    const page = await signedIn();
    await page.locator('nav [data-tab="conversations"]').focus();
    await page.keyboard.press('Enter');
    const row = page.locator('#conversation-rows tr[data-id="a11y-a"]');
    const link = row.getByRole('link');
    await row.waitFor();
    expect(await link.count()).toBe(1);
    expect(await link.getAttribute('href')).toBe('#conversations/a11y-a');
    await page.locator('[data-testid="search"]').focus();
    for (let i = 0; i < 10 && (await focused(page)) !== 'conversation-open'; i++) await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('conversation-open');
    await link.focus();
    await page.keyboard.press('Enter');
    await page.locator('#transcript').waitFor({ state: 'visible' });
    await expect.poll(() => page.evaluate<string | undefined>('document.activeElement?.id'), POLL).toBe('transcript-title');
    expect(await link.getAttribute('aria-current')).toBe('true');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('transcript-close');
    await page.keyboard.press('Enter');
    await page.locator('#transcript').waitFor({ state: 'hidden' });
    await expect.poll(() => page.evaluate<string | undefined>("document.activeElement?.closest('tr')?.dataset.id"), POLL).toBe('a11y-a');
    expect(await focused(page)).toBe('conversation-open');
    expect(await link.getAttribute('aria-current')).toBeNull();
  });

  it("a limit set back to the environment's by keyboard keeps the focus in its form", async () => {
    const page = await signedIn();
    await page.locator('nav [data-tab="budgets"]').click();
    const input = page.locator('[data-testid="limit-day-input"]');
    await input.focus();
    await page.keyboard.type('7');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[data-testid="limit-day-source"]').getAttribute('data-source'), POLL).toBe('console');
    const back = page.locator('[data-testid="limit-day-environment"]');
    await back.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[data-testid="limit-day-source"]').getAttribute('data-source'), POLL).toBe('environment');
    expect(await back.isDisabled()).toBe(true);
    await expect.poll(() => focused(page), POLL).toBe('limit-day-input');
  });
});
