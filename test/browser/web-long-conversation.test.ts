/**
 * A long conversation in the chat page (Debian's chromium through playwright-core): once its
 * transcript is at its cap (webChat's maxTranscript, 200 entries by default), each new entry drops
 * the oldest, so the number of answers on show stops growing. The thinking dots must still go when
 * the answer arrives (they waited for one more answer than they had: on for a minute beside it).
 * And a reload while an answer is on its way shows the dots again (the page came back without them).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { until } from '../helpers/until.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';
import { webChat } from '../../adapters/web/index.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Room for two exchanges: the third drops the first. */
const MAX_TRANSCRIPT = 4;

let browser: Browser;
let ai: FakeOpenAi;
let web: WebBot;
let context: BrowserContext | undefined;
const errors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH`);
  }
  ai = await startFakeOpenAi();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  web = await startWebBot(
    { OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'gpt-4o-mini', CACHE_TTL_SECONDS: '0' },
    { adapters: [webChat({ page: true, maxTranscript: MAX_TRANSCRIPT })] },
  );
}, 30_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await web?.close();
  await ai?.close();
});

/** Send a message from the page and wait until its answer is drawn. */
async function say(page: Page, text: string): Promise<void> {
  await page.locator('#input').fill(text);
  await page.locator('#send').click();
  await page.locator('.msg.assistant', { hasText: `echo: ${text}` }).waitFor({ timeout: 10_000 });
}

describe('a conversation whose transcript is at its cap', () => {
  it('the thinking dots go as each answer arrives, also once old entries are dropped for new ones', async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${web.url}/`);
    for (const text of ['first question', 'second question', 'third question', 'fourth question']) {
      await say(page, text);
      // Drawn with the answer that ends them: the dots are gone in the same render.
      expect(await page.locator('#thinking').isHidden(), `thinking dots after "${text}" was answered`).toBe(true);
    }
    // The cap held: the page shows the last two exchanges only.
    expect(await page.locator('.msg > .text').allTextContents()).toEqual(['third question', 'echo: third question', 'fourth question', 'echo: fourth question']);
    expect(errors).toEqual([]);
  });
});

describe('a reload while an answer is on its way', () => {
  it('shows the thinking dots again until the answer comes', async () => {
    let answer!: () => void;
    const held = new Promise<void>((resolve) => (answer = resolve));
    ai.script((call) => ({ text: `echo: ${lastUserText(call)}`, hold: held }));
    const reloaded = await browser.newContext();
    try {
      const page = await reloaded.newPage();
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${web.url}/`);
      const asked = ai.calls.length;
      await page.locator('#input').fill('a slow question');
      await page.locator('#send').click();
      await page.locator('.msg.user', { hasText: 'a slow question' }).waitFor({ timeout: 10_000 });
      await until(async () => ai.calls.length > asked, 'the AI to be asked');
      await page.reload();
      await page.locator('.msg.user', { hasText: 'a slow question' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('#thinking').isVisible()).toBe(true);
      answer();
      await page.locator('.msg.assistant', { hasText: 'echo: a slow question' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('#thinking').isHidden()).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      answer();
      ai.script((call) => ({ text: `echo: ${lastUserText(call)}` }));
      await reloaded.close();
    }
  });
});
