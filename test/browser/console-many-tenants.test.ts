/**
 * The overview with more tenants than it names (a Slack app in many workspaces): the 20 that spent
 * most today, one row for the others, and a line for the tenant budgets it leaves out, rendered in
 * Debian's chromium from a real bot whose shared counters hold 50 tenants' spend.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryTally } from '../../src/ops/tally.js';
import { Spend } from '../../src/ops/spend.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN_TOKEN = 'console-tenants-admin-token-41d8e0';
const POLL = { timeout: 10_000, interval: 50 };

describe('the overview with 50 tenants', () => {
  let browser: Browser;
  let web: WebBot;
  const tally = new MemoryTally();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium, or set CHROMIUM_PATH`);
    web = await startWebBot({ ADMIN_TOKEN, OPENAI_API_KEY: 'test', AI_BUDGET_USD_PER_TENANT_PER_DAY: '1' }, { tally });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await web?.close();
  });

  it('names the 20 that spent most, sums the other 30 in one row, and counts the budgets it leaves out; the Budgets tab nearest first, and its lookup', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => void (message.type() === 'error' && problems.push(message.text())));
    await page.goto(`${web.url}/console`);
    await page.locator('[data-testid="token"]').fill(ADMIN_TOKEN);
    await page.locator('[data-testid="signin"]').click();
    await page.locator('#view-overview').waitFor({ state: 'visible' });
    // Before any tenant spent: the per-tenant budget is set, and the overview says so (not "No budget is set").
    const unspent = page.locator('#overview-budgets [data-testid="budgets-tenant-unspent"]');
    await expect.poll(async () => (await unspent.count()) && (await unspent.textContent())?.trim(), POLL).toBe('Per-tenant budget: $1.00 a day; no tenant has spent yet.');
    expect(await page.locator('#overview-budgets [data-testid="budgets-none"]').count()).toBe(0);
    // Spend as other processes counted it: tenant T<i> $0.01 × i; T1…T3 past their day budget.
    const spend = new Spend(tally, { tenantDayUsd: 1 });
    for (let i = 1; i <= 50; i++) await spend.record('gpt-4o-mini', `T${i}`, i / 100 + (i <= 3 ? 1 : 0));
    // The other 30 are T4…T33: $0.04 + … + $0.33.
    await expect.poll(() => unspent.count(), POLL).toBe(0);
    const others = page.locator('#spend-by-tenant [data-testid="other-tenants"]');
    await expect.poll(async () => (await others.textContent())?.trim(), POLL).toBe('30 other tenants$5.55');
    expect(await page.locator('#spend-by-tenant tr').count()).toBe(21);
    // The most spent first: T3 ($1.03).
    expect(await page.locator('#spend-by-tenant tr').first().textContent()).toContain('T3');
    // Three exceeded tenant budgets are among the 20 shown; the 30 left out are under 80%.
    expect(await page.locator('#overview-budgets li.budget').count()).toBe(20);
    expect(await page.locator('#overview-budgets [data-testid="budget-tenant-T1-day-state"]').textContent()).toBe('exceeded');
    expect((await page.locator('#overview-budgets [data-testid="other-budgets"]').textContent())?.trim()).toBe('30 more tenant budgets: see Budgets.');
    // The Budgets tab lists every one (fewer than its 100 a page), nearest its limit first, none left out.
    await page.locator('nav [data-tab="budgets"]').click();
    await expect.poll(() => page.locator('#budget-list li.budget').count(), POLL).toBe(50);
    expect(await page.locator('#budget-list li.budget').first().getAttribute('data-testid')).toBe('budget-tenant-T3-day');
    expect(await page.locator('#budget-list [data-testid="other-budgets"]').count()).toBe(0);
    // The lookup: T4, then T40…T49; one that matches nothing says so.
    await page.locator('[data-testid="budget-lookup-input"]').fill('T4');
    await page.locator('[data-testid="budget-lookup-submit"]').click();
    await expect.poll(() => page.locator('#budget-list li.budget').count(), POLL).toBe(11);
    expect(await page.locator('#budget-list li.budget').first().getAttribute('data-testid')).toBe('budget-tenant-T4-day');
    await page.locator('[data-testid="budget-lookup-input"]').fill('nobody');
    await page.locator('[data-testid="budget-lookup-submit"]').click();
    await expect.poll(async () => (await page.locator('#budget-list [data-testid="budgets-none"]').textContent())?.trim(), POLL).toBe('No tenant whose id starts with "nobody" spent this month.');
    expect(await page.locator('#budget-list li.budget').count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
