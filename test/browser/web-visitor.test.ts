/**
 * The web chat page as a visitor meets it, in a real browser (Debian's chromium through
 * playwright-core) against a real bot (memory defaults) and the fake OpenAI server:
 * - right-to-left text (Arabic) reads right to left, in the messages and in the message box;
 * - a long answer arrives with its start on show, not its end;
 * - the connection cut (a TCP proxy in between) says "reconnecting", and the answer given meanwhile
 *   shows once when the connection is back, without a reload;
 * - a second tab of the same visitor shows the conversation, and each answer once in each tab.
 * One browser and one bot for the file.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startCuttableProxy } from '../helpers/cuttable-proxy.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const POLL = { timeout: 15_000, interval: 50 };
const LONG_ANSWER = ['The start of a long answer.', ...Array.from({ length: 60 }, (_, i) => `Step ${i + 1}: one more line of the answer.`)].join('\n\n');

let browser: Browser;
let ai: FakeOpenAi;
let web: WebBot;
/** Lets the held answer go ("hold" in a message: the test decides when the model is done). */
let release = () => {};

beforeAll(async () => {
  ai = await startFakeOpenAi((call) => {
    const text = lastUserText(call);
    if (/hold/.test(text)) return { text: `held: ${text}`, hold: new Promise((resolve) => (release = () => resolve(undefined))) };
    if (/long/.test(text)) return { text: LONG_ANSWER };
    if (/مرحبا/.test(text)) return { text: 'أهلاً! كيف يمكنني مساعدتك اليوم؟' };
    return { text: `echo: ${text}` };
  });
  web = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'gpt-4o-mini', CACHE_TTL_SECONDS: '0' });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await ai?.close();
});

/** The messages on show, as text: their words alone (not the hidden speaker label, nor the 👍/👎 under answers). */
const shown = (page: Page) => page.locator('.msg > .text').allTextContents();

async function say(page: Page, text: string, answer: string | RegExp): Promise<void> {
  await page.locator('#input').fill(text);
  // Send enabled: the chat's script is running (its Enter handler attached); an Enter before it is a new line.
  await page.locator('#send:not([disabled])').waitFor();
  await page.locator('#input').press('Enter');
  await page.locator('.msg.assistant', { hasText: answer }).waitFor({ timeout: 15_000 });
}

describe('what a visitor meets', () => {
  it('Arabic reads right to left, in the messages and in the message box; English stays left to right', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${web.url}/`);
    await say(page, 'مرحبا، هل يمكنك مساعدتي؟', 'أهلاً');
    await say(page, 'hello in English', 'echo: hello in English');
    const directions = await page.evaluate<string[]>("[...document.querySelectorAll('.msg > .text')].map((node) => getComputedStyle(node).direction)");
    expect(directions).toEqual(['rtl', 'rtl', 'ltr', 'ltr']);
    await page.locator('#input').fill('שלום');
    expect(await page.evaluate<string>("getComputedStyle(document.getElementById('input')).direction")).toBe('rtl');
    await context.close();
  }, 40_000);

  it('a long answer arrives with its start on show in the conversation, not its end', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 667 } });
    const page = await context.newPage();
    await page.goto(`${web.url}/`);
    await say(page, 'a long one please', 'The start of a long answer.');
    // The answer's first line lies within the conversation's pane as it scrolls.
    const startInLog = () =>
      page.evaluate<boolean>(`(() => {
        const log = document.getElementById('messages').getBoundingClientRect();
        const line = document.querySelector('.msg.assistant .text > p').getBoundingClientRect();
        return line.top >= log.top && line.bottom <= log.bottom;
      })()`);
    await expect.poll(startInLog, POLL).toBe(true);
    await context.close();
  }, 40_000);

  it('the connection cut says the chat is reconnecting; back, the answer given meanwhile shows once, without a reload', async () => {
    const proxy = await startCuttableProxy(Number(new URL(web.url).port));
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${proxy.url}/`);
      await say(page, 'first', 'echo: first');
      await page.locator('#input').fill('hold on');
      await page.locator('#input').press('Enter');
      await page.locator('.msg.user', { hasText: 'hold on' }).waitFor();
      const conversation = (await page.evaluate<string | null>("sessionStorage.getItem('parley.conversation')"))!;
      proxy.cut();
      await expect.poll(() => page.locator('#status').textContent(), POLL).toBe('The chat is reconnecting…');
      release();
      await web.waitFor(conversation, (entries) => entries.length === 4);
      proxy.restore();
      await page.locator('.msg.assistant', { hasText: 'held: hold on' }).waitFor({ timeout: 15_000 });
      await expect.poll(() => page.locator('#status').textContent(), POLL).toBe('');
      expect(await shown(page)).toEqual(['first', 'echo: first', 'hold on', 'held: hold on']);
    } finally {
      release();
      await context.close();
      await proxy.close();
    }
  }, 40_000);

  it("a second tab of the same visitor shows the conversation; each answer shows once in each tab; a new chat asked for stays new after a reload", async () => {
    const context = await browser.newContext();
    const first = await context.newPage();
    await first.goto(`${web.url}/`);
    await say(first, 'from the first tab', 'echo: from the first tab');
    const second = await context.newPage();
    await second.goto(`${web.url}/`);
    await expect.poll(() => shown(second), POLL).toEqual(['from the first tab', 'echo: from the first tab']);
    await say(first, 'again from the first tab', 'echo: again from the first tab');
    const both = ['from the first tab', 'echo: from the first tab', 'again from the first tab', 'echo: again from the first tab'];
    await expect.poll(() => shown(second), POLL).toEqual(both);
    expect(await shown(first)).toEqual(both);
    await second.locator('#new').click();
    await second.reload();
    await second.locator('.empty').waitFor();
    // Its start has settled (the session, then what it shows): still the empty "say hello" state.
    await expect.poll(() => second.locator('#status').textContent(), POLL).toBe('');
    expect(await shown(second)).toEqual([]);
    await context.close();
  }, 40_000);

  it('a message sent while a new tab still reads the latest conversation waits for it: found gone (404), the message starts a new one and is answered there', async () => {
    const context = await browser.newContext();
    const first = await context.newPage();
    await first.goto(`${web.url}/`);
    await say(first, 'the conversation a second tab finds', 'echo: the conversation a second tab finds');
    const second = await context.newPage();
    // The latest conversation's transcript held back, then answered 404 (erased meanwhile, say).
    let releaseTranscript!: () => void;
    const held = new Promise<void>((resolve) => (releaseTranscript = resolve));
    await second.route(/\/web\/conversations\/[^/?]+$/, async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      await held;
      await route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ error: { code: 'not_found', message: 'No such conversation.' } }) });
    }, { times: 1 });
    const transcriptAsked = second.waitForRequest((request) => /\/web\/conversations\/[^/?]+$/.test(request.url()) && request.method() === 'GET');
    await second.goto(`${web.url}/`);
    await transcriptAsked;
    await second.locator('#input').fill('sent while the tab starts');
    await second.locator('#send:not([disabled])').waitFor();
    const posted = second.waitForResponse((response) => response.url().endsWith('/web/messages'));
    await second.locator('#input').press('Enter');
    // The 404 comes after the message's answer (a slow machine's order): a tab that posted at once has
    // put the message in the conversation it then drops. One that waits posts only after the 404 (here
    // after 2 s): no response to wait for before that.
    await Promise.race([posted, new Promise((resolve) => setTimeout(resolve, 2000))]);
    releaseTranscript();
    await second.locator('.msg.assistant', { hasText: 'echo: sent while the tab starts' }).waitFor({ timeout: 15_000 });
    await context.close();
  });
});
