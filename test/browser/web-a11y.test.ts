/**
 * The web chat's accessibility in a real browser (Debian's chromium through playwright-core),
 * against a real bot (web chat adapter, memory defaults) and the fake OpenAI server:
 * - the page's landmarks, names and roles as the accessibility tree has them;
 * - the log announces each entry once (the nodes already on show stay), and the typing dots say
 *   "The assistant is typing" in a live region that is there before they show;
 * - each message says who said it ("You:", "Assistant:", "Notice:") to a screen reader, hidden from
 *   the eye and from a copy of the text, also once the transcript is drawn again after a reload;
 * - the widget by keyboard: Tab to the launcher, Enter opens with the focus in the message box,
 *   Escape closes with the focus back on the launcher; Escape in a 👎's reason (its box, Skip or Send)
 *   skips the reason and leaves the chat open;
 * - text contrast of the default theme, light and dark (4.5:1), computed from the CSS colours;
 * - the focus ring on a site's colour (data-color) stands out at 3:1, light and dark theme.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { contrastOf } from '../helpers/contrast.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const POLL = { timeout: 10_000, interval: 50 };

let browser: Browser;
let ai: FakeOpenAi;
let web: WebBot;
let website: Server;
let websiteUrl = '';
const contexts: BrowserContext[] = [];
const errors: string[] = [];
/** Answers to a message containing "slow" wait for this. */
let release: () => void = () => {};
let held = Promise.resolve();

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH`);
  ai = await startFakeOpenAi((call) => {
    const text = lastUserText(call);
    if (/filtered/.test(text)) return { text: '', finishReason: 'content_filter' }; // the apology, drawn as a notice
    return /slow/.test(text) ? { text: 'The slow answer.', hold: held } : { text: `echo: ${text}` };
  });
  website = createServer((req, res) => {
    // ?color= becomes the widget's data-color.
    const color = new URL(req.url ?? '/', 'http://localhost').searchParams.get('color');
    const colorAttribute = color ? ` data-color="${color.replace(/[^a-z0-9#(),.%\s/]/gi, '')}"` : '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>A shop</title></head>
<body><h1>A shop</h1><p>No links here: the first Tab lands on the chat bubble.</p>
<script src="${web.url}/web/widget.js" data-parley-url="${web.url}" data-title="Help"${colorAttribute} async></script></body></html>`);
  });
  await new Promise<void>((resolve) => website.listen(0, '127.0.0.1', resolve));
  websiteUrl = `http://localhost:${(website.address() as AddressInfo).port}`;
  web = await startWebBot({ OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'gpt-4o-mini', CACHE_TTL_SECONDS: '0', WEB_ALLOWED_ORIGINS: websiteUrl });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'] });
}, 30_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await web?.close();
  await ai?.close();
  website?.closeAllConnections();
  await new Promise((resolve) => website?.close(resolve));
});

async function open(url: string, options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 }, ...options });
  contexts.push(context);
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console error on ${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  await page.goto(url);
  return page;
}

async function say(target: Page | Frame, text: string): Promise<void> {
  await target.locator('#input').fill(text);
  // Send enabled: the chat's script is running (its Enter handler attached); an Enter before it is a new line.
  await target.locator('#send:not([disabled])').waitFor();
  await target.locator('#input').press('Enter');
  await target.locator('.msg.assistant', { hasText: `echo: ${text}` }).waitFor({ timeout: 10_000 });
}

describe('the chat page', () => {
  let page: Page;

  it('has a main landmark holding a named log, a labelled message box and named buttons', async () => {
    page = await open(`${web.url}/`);
    expect(await page.getByRole('main').count()).toBe(1);
    const log = page.getByRole('main').getByRole('log', { name: 'Conversation' });
    expect(await log.getAttribute('aria-live')).toBe('polite');
    expect(await page.getByRole('main').getByRole('textbox', { name: 'Message' }).isVisible()).toBe(true);
    for (const name of ['Send', 'New chat', 'Delete chat']) expect(await page.getByRole('button', { name, exact: true }).count()).toBe(1);
    // No bubble is a live region of its own: the log announces them.
    await say(page, 'hello');
    expect(await page.locator('.msg[aria-live], .msg[role]').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('announces each entry once: the log gains the question and its answer, nothing on show is drawn again; the typing dots say so in words; Shift+Enter is a new line, Enter sends', async () => {
    await page.evaluate(`{
      window.__added = []; window.__removed = 0;
      new MutationObserver((records) => { for (const r of records) { window.__removed += r.removedNodes.length; for (const n of r.addedNodes) window.__added.push(n.className + ': ' + n.querySelector('.text').textContent); } })
        .observe(document.getElementById('messages'), { childList: true });
    }`);
    // The live region of the typing dots is in the tree before they show, so their words are announced.
    const typing = page.getByRole('status').filter({ has: page.locator('#thinking') });
    expect(await typing.isVisible()).toBe(false);
    expect(await typing.count()).toBe(1);
    held = new Promise((resolve) => (release = () => resolve(undefined)));
    // Shift+Enter is a new line, Enter sends.
    const box = page.getByRole('textbox', { name: 'Message' });
    await box.fill('a slow');
    await box.press('Shift+Enter');
    await box.pressSequentially('question');
    expect(await box.inputValue()).toBe('a slow\nquestion');
    await box.press('Enter');
    await expect.poll(() => typing.textContent(), POLL).toContain('The assistant is typing');
    expect(await page.getByText('The assistant is typing').count()).toBe(1);
    await page.locator('.msg.user', { hasText: 'question' }).waitFor();
    release();
    await page.locator('.msg.assistant', { hasText: 'The slow answer.' }).waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('#thinking').isHidden(), POLL).toBe(true);
    const added = (await page.evaluate('window.__added')) as string[];
    expect(added).toHaveLength(2);
    expect(added[0]).toBe('msg user: a slow\nquestion');
    expect(added[1]).toMatch(/^msg assistant: The slow answer\./);
    expect(await page.evaluate('window.__removed')).toBe(0);
    const log = page.getByRole('log', { name: 'Conversation' });
    expect(await log.getByText('The slow answer.', { exact: true }).count()).toBe(1);
    // The dots stand still for visitors who ask for less motion.
    await page.emulateMedia({ reducedMotion: 'reduce' });
    expect(await page.evaluate("getComputedStyle(document.querySelector('#thinking .dot')).animationName")).toBe('none');
    expect(errors).toEqual([]);
  });

  it('says who said each message to a screen reader ("You:", "Assistant:", "Notice:"), hidden from the eye and left out of a copy; again after a reload', async () => {
    const speakers = await open(`${web.url}/`);
    await say(speakers, 'who said this');
    await speakers.locator('#input').fill('this one gets filtered');
    await speakers.locator('#input').press('Enter');
    await speakers.locator('.msg.apology').waitFor({ timeout: 10_000 });
    const check = async (when: string) => {
      // What a screen reader reads of the log: each message after its speaker.
      const read = await speakers.getByRole('log', { name: 'Conversation' }).ariaSnapshot();
      expect(read, when).toMatch(/You: who said this\b/);
      expect(read, when).toMatch(/Assistant:[\s\S]*echo: who said this/);
      expect(read, when).toMatch(/You: this one gets filtered Notice:[\s\S]*Sorry/);
      const bubbles = await speakers.evaluate<string[]>("[...document.querySelectorAll('.msg')].map((node) => node.innerText.split('\\n')[0])");
      expect(bubbles, when).toEqual(['You:', 'Assistant:', 'You:', 'Notice:']);
      // Not shown: each label is a clipped 1×1 box.
      const labels = speakers.locator('.msg .speaker');
      expect(await labels.count(), when).toBe(4);
      for (const label of await labels.all()) {
        const box = await label.boundingBox();
        expect(box && box.width <= 1 && box.height <= 1, when).toBe(true);
      }
      expect(await speakers.evaluate<string[]>("[...document.querySelectorAll('.msg .speaker')].map((node) => getComputedStyle(node).clipPath)"), when).toEqual(Array(4).fill('inset(50%)'));
      // The message's own text is its words alone, and a copy of the conversation holds no label.
      expect(await speakers.locator('.msg > .text').allTextContents(), when).toEqual(['who said this', 'echo: who said this', 'this one gets filtered', "Sorry — I can't help with that one."]);
      const copied = await speakers.evaluate<string>("(() => { const range = document.createRange(); range.selectNodeContents(document.getElementById('messages')); getSelection().removeAllRanges(); getSelection().addRange(range); return getSelection().toString(); })()");
      expect(copied, when).toContain('echo: who said this');
      expect(copied, when).not.toMatch(/You:|Assistant:|Notice:/);
    };
    await check('as the messages arrived');
    await speakers.reload();
    await speakers.locator('.msg.apology').waitFor({ timeout: 10_000 });
    await check('drawn again from the transcript after a reload');
    expect(errors).toEqual([]);
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`text reads at 4.5:1 or more in the ${colorScheme} theme: messages, placeholder, status, the delete dialog`, async () => {
      const themed = await open(`${web.url}/`, { colorScheme });
      await say(themed, 'hello in colour');
      await themed.locator('#delete').click();
      await themed.locator('#confirm-delete').waitFor({ state: 'visible' });
      const checks: [string, string?][] = [['.msg.user'], ['.msg.assistant p'], ['#subtitle'], ['#input', '::placeholder'], ['#confirm-delete-text'], ['#confirm-delete-no'], ['#confirm-delete-yes']];
      for (const [selector, pseudo] of checks) {
        expect(await themed.evaluate<number>(contrastOf(selector, pseudo)), `${selector}${pseudo ?? ''}`).toBeGreaterThanOrEqual(4.5);
      }
      await themed.locator('#confirm-delete-no').click();
      expect(errors).toEqual([]);
    });
  }
});

describe('the widget by keyboard', () => {
  it('Tab reaches the launcher, Enter opens the chat with the focus in its message box, Escape closes it back to the launcher', async () => {
    const page = await open(websiteUrl);
    const launcher = page.getByRole('button', { name: 'Open the chat: Help' });
    await launcher.waitFor();
    expect(await launcher.getAttribute('aria-expanded')).toBe('false');
    const focused = () => page.evaluate<string | null>("document.activeElement?.shadowRoot?.activeElement?.getAttribute('data-parley') ?? null");
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('bubble');

    await page.keyboard.press('Enter');
    const closer = page.getByRole('button', { name: 'Close the chat: Help' });
    expect(await closer.getAttribute('aria-expanded')).toBe('true');
    expect(await page.locator('iframe[title="Help"]').isVisible()).toBe(true);
    await expect.poll(() => page.frames().some((f) => f.url().includes('/web/frame')), POLL).toBe(true);
    const frame = page.frames().find((f) => f.url().includes('/web/frame'))!;
    const inFrame = () => frame.evaluate<string | null>('document.hasFocus() ? document.activeElement.id : null');
    await expect.poll(inFrame, POLL).toBe('input');
    expect(await focused()).toBe('frame');
    // The frame's header subtitle, on the header's colour (default blue).
    expect(await frame.evaluate<number>(contrastOf('#subtitle'))).toBeGreaterThanOrEqual(4.5);
    expect(await frame.getByRole('button', { name: 'Close the chat', exact: true }).count()).toBe(1);

    // Typed straight away: the keyboard is in the chat.
    await page.keyboard.type('hello by keyboard');
    await page.keyboard.press('Enter');
    await frame.locator('.msg.assistant', { hasText: 'echo: hello by keyboard' }).waitFor({ timeout: 10_000 });

    await page.keyboard.press('Escape');
    await expect.poll(() => launcher.getAttribute('aria-expanded'), POLL).toBe('false');
    expect(await page.locator('iframe[title="Help"]').isVisible()).toBe(false);
    await expect.poll(focused, POLL).toBe('bubble');

    // Open again (the frame is loaded: the widget asks it for the focus), then closed by the site's own script.
    await page.keyboard.press('Enter');
    await expect.poll(inFrame, POLL).toBe('input');
    await page.evaluate('window.parleyWidget.close()');
    await expect.poll(focused, POLL).toBe('bubble');
    expect(errors).toEqual([]);
  });

  it('Escape in a 👎\'s reason box skips the reason and leaves the chat open; the next Escape closes it', async () => {
    const page = await open(websiteUrl);
    const launcher = page.getByRole('button', { name: 'Open the chat: Help' });
    await launcher.click();
    await expect.poll(() => page.frames().some((f) => f.url().includes('/web/frame')), POLL).toBe(true);
    const frame = page.frames().find((f) => f.url().includes('/web/frame'))!;
    await say(frame, 'rate me by keyboard');
    const answer = frame.locator('.msg.assistant', { hasText: 'echo: rate me by keyboard' });
    await answer.locator('.feedback').waitFor({ timeout: 10_000 });
    await answer.getByRole('button', { name: 'Bad answer' }).click();
    const box = answer.getByRole('textbox', { name: 'What was wrong with this answer?' });
    await box.waitFor();
    await box.fill('half a thought');
    await box.press('Escape');
    await expect.poll(() => answer.locator('.thanks').textContent(), POLL).toBe('Thanks for the feedback.');
    expect(await answer.getByRole('button', { name: 'Bad answer' }).getAttribute('aria-pressed')).toBe('true');
    // Still open: the bubble is the close button, the frame on show.
    expect(await page.getByRole('button', { name: 'Close the chat: Help' }).getAttribute('aria-expanded')).toBe('true');
    expect(await page.locator('iframe[title="Help"]').isVisible()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => launcher.getAttribute('aria-expanded'), POLL).toBe('false');
    expect(errors).toEqual([]);
  });

  it('Escape on the reason\'s Skip or Send button skips the reason too, leaves the chat open and the focus on the 👎', async () => {
    const page = await open(websiteUrl);
    await page.getByRole('button', { name: 'Open the chat: Help' }).click();
    await expect.poll(() => page.frames().some((f) => f.url().includes('/web/frame')), POLL).toBe(true);
    const frame = page.frames().find((f) => f.url().includes('/web/frame'))!;
    for (const button of ['Skip', 'Send']) {
      await say(frame, `rate me, then Escape on ${button}`);
      const answer = frame.locator('.msg.assistant', { hasText: `echo: rate me, then Escape on ${button}` });
      await answer.locator('.feedback').waitFor({ timeout: 10_000 });
      await answer.getByRole('button', { name: 'Bad answer' }).click();
      await answer.getByRole('textbox', { name: 'What was wrong with this answer?' }).waitFor();
      await answer.getByRole('button', { name: button }).focus();
      await page.keyboard.press('Escape');
      // Either the reason is skipped (the chat stays open) or the whole chat closes: wait for one, then say which.
      const bubble = page.locator('[data-parley="bubble"]');
      await expect.poll(async () => (await answer.locator('.thanks').count()) > 0 || (await bubble.getAttribute('aria-expanded')) === 'false', POLL).toBe(true);
      expect(await bubble.getAttribute('aria-expanded')).toBe('true');
      expect(await answer.locator('.thanks').textContent()).toBe('Thanks for the feedback.');
      expect(await answer.getByRole('textbox').count()).toBe(0);
      expect(await frame.evaluate('document.activeElement.getAttribute("aria-label")')).toBe('Bad answer');
    }
    expect(errors).toEqual([]);
  });

  it("the site's own parleyWidget.open() leaves the focus where the site put it (a field on the page), also once the frame has loaded", async () => {
    const page = await open(websiteUrl);
    await page.getByRole('button', { name: 'Open the chat: Help' }).waitFor();
    await page.evaluate("(() => { const field = document.createElement('input'); field.id = 'site-field'; document.body.append(field); field.focus(); })()");
    await page.evaluate('window.parleyWidget.open()');
    await expect.poll(() => page.frames().some((f) => f.url().includes('/web/frame')), POLL).toBe(true);
    const frame = page.frames().find((f) => f.url().includes('/web/frame'))!;
    await frame.locator('#input').waitFor();
    await frame.waitForLoadState('load');
    expect(await page.locator('iframe[title="Help"]').isVisible()).toBe(true);
    expect(await page.evaluate<string | null>('document.activeElement?.id ?? null')).toBe('site-field');
    expect(await frame.evaluate<boolean>('document.hasFocus()')).toBe(false);
    expect(errors).toEqual([]);
  });

  it("in a site's mid-tone colour (data-color #0a7) the header and the send button take the text colour that reads better", async () => {
    const page = await open(`${web.url}/web/frame?title=Help&color=%230a7`);
    await expect.poll(() => page.locator('#title').textContent(), POLL).toBe('Help');
    await page.locator('#input').fill('enables the send button');
    for (const selector of ['#title', '#subtitle', '#new', '#send']) {
      expect(await page.evaluate<number>(contrastOf(selector)), selector).toBeGreaterThanOrEqual(4.5);
    }
    expect(errors).toEqual([]);
  });

  it('a light data-color in any CSS form (a name, rgb(), hsl()) takes near-black text in the header and on the send button', async () => {
    for (const color of ['gold', 'rgb(255, 215, 0)', 'hsl(51 100% 50%)']) {
      const page = await open(`${web.url}/web/frame?${new URLSearchParams({ title: 'Help', color })}`);
      await expect.poll(() => page.locator('#title').textContent(), POLL).toBe('Help');
      await page.locator('#input').fill('enables the send button');
      for (const selector of ['#title', '#subtitle', '#send']) {
        expect(await page.evaluate<number>(contrastOf(selector)), `${selector} on ${color}`).toBeGreaterThanOrEqual(4.5);
      }
    }
    // The widget's bubble: its icon on the site's colour.
    const site = await open(`${websiteUrl}/?color=gold`);
    await site.getByRole('button', { name: 'Open the chat: Help' }).waitFor();
    const bubbleText = "getComputedStyle(document.querySelector('[data-parley-widget]').shadowRoot.querySelector('[data-parley=bubble]')).color";
    expect(await site.evaluate<string>(bubbleText)).toBe('rgb(17, 17, 17)');
    expect(errors).toEqual([]);
  }, 40_000); // four pages in one test: above the default 20 s on a loaded machine

  it("the focus ring stands out (3:1) whatever the site's colour: a light one in the light theme, a dark one in the dark theme; a colour that stands out is kept", async () => {
    // The ring (outline-offset 2px) sits on the composer's --panel; the textarea itself is --bg.
    const ring = `(() => {
      const lum = (c) => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
      const outline = getComputedStyle(document.activeElement).outlineColor;
      return { outline, panel: ratio(outline, getComputedStyle(document.querySelector('#composer')).backgroundColor), bg: ratio(outline, getComputedStyle(document.querySelector('#input')).backgroundColor) };
    })()`;
    const cases: [colorScheme: 'light' | 'dark', color: string][] = [['light', 'gold'], ['dark', '#1e3a8a'], ['light', '#7c3aed']];
    const page = await open('about:blank');
    for (const [colorScheme, color] of cases) {
      await page.emulateMedia({ colorScheme });
      await page.goto(`${web.url}/web/frame?${new URLSearchParams({ title: 'Help', color })}`);
      await expect.poll(() => page.locator('#title').textContent(), POLL).toBe('Help');
      await page.locator('#input').focus();
      const seen = await page.evaluate<{ outline: string; panel: number; bg: number }>(ring);
      expect(seen.panel, `${color} in the ${colorScheme} theme: ${seen.outline}`).toBeGreaterThanOrEqual(3);
      expect(seen.bg, `${color} in the ${colorScheme} theme: ${seen.outline}`).toBeGreaterThanOrEqual(3);
      // The site's own colour where it reads: #7c3aed on white.
      if (color === '#7c3aed') expect(seen.outline).toBe('rgb(124, 58, 237)');
    }
    expect(errors).toEqual([]);
  }, 40_000);
});
