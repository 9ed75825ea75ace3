/**
 * The overview's chart counts each message once: a message given up is both apologised and
 * dead-lettered, and the stack (and its "peak N/min") used to count it twice. A real bot (web
 * chat, memory defaults) whose fake AI is down, the console in Debian's chromium.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MinuteCounts, Overview } from '../../src/console/api.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { until } from '../helpers/until.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN_TOKEN = 'console-chart-admin-token-7c2a91';
const GIVEN_UP = 3;

describe("the overview chart's peak, and the conversations of messages given up", () => {
  let browser: Browser;
  let ai: FakeOpenAi;
  let web: WebBot;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium, or set CHROMIUM_PATH`);
    ai = await startFakeOpenAi(() => ({ status: 503 }));
    web = await startWebBot({ ADMIN_TOKEN, OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test', JOB_ATTEMPTS: '1', AI_ATTEMPTS: '1', AI_BREAKER_THRESHOLD: '100' });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await ai?.close();
  });

  it('counts a message that was apologised and dead-lettered once, not twice', async () => {
    for (let n = 1; n <= GIVEN_UP; n++) expect((await web.post(`down-${n}`, `are you there? ${n}`)).status).toBeLessThan(300);
    for (let n = 1; n <= GIVEN_UP; n++) await web.waitFor(`down-${n}`, (e) => assistantReplies(e).some((r) => r.kind === 'apology'));
    const sum = (minutes: MinuteCounts[], field: 'received' | 'apologised' | 'deadLettered') => minutes.reduce((total, m) => total + m[field], 0);
    const overview = await until(async () => {
      const res = await fetch(`${web.url}/console/api/overview`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const o = (await res.json()) as Overview;
      return sum(o.minutes, 'received') === GIVEN_UP && sum(o.minutes, 'apologised') === GIVEN_UP && sum(o.minutes, 'deadLettered') === GIVEN_UP && o;
    }, 'the given-up messages in the overview');
    // Every message here was received, apologised and dead-lettered: the busiest minute's messages, once each.
    const busiest = Math.max(...overview.minutes.map((m) => m.received));

    const page = await browser.newPage();
    await page.goto(`${web.url}/console`);
    await page.locator('[data-testid="token"]').fill(ADMIN_TOKEN);
    await page.locator('[data-testid="signin"]').click();
    await page.locator('#view-overview').waitFor({ state: 'visible' });
    await expect.poll(async () => (await page.locator('#chart-peak').textContent())?.trim(), { timeout: 10_000, interval: 50 }).toMatch(/^peak \d+\/min/);
    expect((await page.locator('#chart-peak').textContent())?.trim()).toMatch(new RegExp(`^peak ${busiest}/min`));

    // The conversations view has them too, sorted by wait, each transcript showing the apology as such.
    await page.locator('nav [data-tab="conversations"]').click();
    await page.locator('[data-testid="filter-sort"]').selectOption('wait');
    const rows = page.locator('#conversation-rows [data-testid="conversation"]');
    await expect.poll(() => rows.count(), { timeout: 10_000, interval: 50 }).toBe(GIVEN_UP);
    expect(await rows.first().locator('[data-testid="conversation-exchanges"]').textContent()).toBe('1 (1 apologised)');
    await rows.first().click();
    const exchange = page.locator('[data-testid="transcript"] [data-testid="exchange"]');
    await expect.poll(() => exchange.count(), { timeout: 10_000, interval: 50 }).toBe(1);
    expect(await exchange.locator('[data-testid="exchange-outcome"]').textContent()).toBe('not answered: given up');
    expect(await exchange.locator('[data-testid="exchange-latency"]').textContent()).toMatch(/^apology after \d+(\.\d+)? (ms|s)$/);
    expect(await exchange.locator('[data-testid="exchange-model"]').count()).toBe(0);
  }, 40_000);
});
