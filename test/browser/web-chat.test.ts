/**
 * The web chat in a real browser (Debian's chromium through playwright-core), against a real bot
 * (web chat adapter, memory defaults) and the fake OpenAI server. One browser for the file, one
 * bot per describe:
 * - the no-setup start, and two visitors who never see each other's conversation (page and API);
 * - a visitor deletes their conversation;
 * - the widget on a website of another origin: allowed (frame, chat) and refused (frame-ancestors, CORS),
 *   and the same visitor after its hour-long token expired (the renew token);
 * - an answer carrying HTML and JavaScript is inert, in the page and in the widget's frame;
 * - the per-address limits, with TRUST_PROXY on and off, as the page shows them;
 * - event streams ending at their maximum age: the page opens a new one at once, unseen;
 * - no console errors and no CSP violations on the way.
 * Screenshots land in test-results/web-chat/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Frame, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type ChatCall, type FakeOpenAi, type ScriptedAnswer } from '../fakes/openai-server.js';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';
import { MemoryQueue, type JobData } from '../../src/index.js';
import { webChat } from '../../adapters/web/index.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = 'test-results/web-chat';
const POLL = { timeout: 10_000, interval: 50 };

/** What a model hostile to the visitor (or fooled by a prompt injection) might answer. */
const PAYLOAD = [
  'Here is **bold** text and a [safe link](https://example.com/help).',
  '',
  '<img src=x onerror="window.__pwned=1">',
  '',
  '[click](javascript:window.__pwned=2)',
  '',
  '<script>window.__pwned=3</script>',
].join('\n');

function answer(call: ChatCall): ScriptedAnswer {
  const text = lastUserText(call);
  return { text: /payload/i.test(text) ? PAYLOAD : `echo: ${text}` };
}

let browser: Browser;
let ai: FakeOpenAi;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH`);
  }
  mkdirSync(SHOTS, { recursive: true });
  ai = await startFakeOpenAi(answer);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await ai?.close();
});

const botEnv = (env: Record<string, string> = {}) => ({ OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'gpt-4o-mini', CACHE_TTL_SECONDS: '0', ...env });

/**
 * Console errors, uncaught exceptions and CSP violations of every page and frame in a context.
 * `expect(...)` names the ones a step provokes on purpose (a 404 asked for, a refused frame).
 */
class Watcher {
  readonly seen: string[] = [];
  private expected: RegExp[] = [];

  watch(page: Page): Page {
    page.on('console', (message) => {
      if (message.type() === 'error') this.seen.push(`console error on ${page.url()}: ${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => this.seen.push(`page error on ${page.url()}: ${error.message}`));
    return page;
  }

  /** Allow messages matching `patterns` from now on. */
  allow(...patterns: RegExp[]): void {
    this.expected.push(...patterns);
  }

  unexpected(): string[] {
    return this.seen.filter((line) => !this.expected.some((pattern) => pattern.test(line)));
  }
}

async function newPage(watcher: Watcher, options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 }, ...options });
  const page = watcher.watch(await context.newPage());
  return { context, page };
}

/** Type a message, send it, and wait for the echo in the transcript. */
async function say(target: Page | Frame, text: string, reply = `echo: ${text}`): Promise<void> {
  await target.locator('#input').fill(text);
  await target.locator('#send').click();
  await target.locator('.msg.assistant', { hasText: reply }).first().waitFor({ timeout: 10_000 });
}

// (Expressions as strings: this file compiles without the DOM's types.)
const conversationOf = (target: Page | Frame) => target.evaluate<string | null>("window.sessionStorage.getItem('parley.conversation')");

/** The visitor's bearer token, as the page holds it: renewing the session (its cookie names the visitor). */
const tokenOfPage = (page: Page) =>
  page.evaluate(async () => ((await (await fetch('/web/sessions', { method: 'POST' })).json()) as { token: string }).token);

const apiGet = (web: WebBot, path: string, token: string) => fetch(`${web.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png` });

/**
 * A website on another origin with the widget's script tag: on `localhost` it is another site than
 * the bot's 127.0.0.1 too (a shop embedding a chat hosted elsewhere); on 127.0.0.1 it is the same
 * site on another port (www.example.com embedding chat.example.com).
 */
interface Website {
  url: string;
  origin: string;
  close(): Promise<void>;
}

async function startWebsite(tag: () => string, host: 'localhost' | '127.0.0.1' = 'localhost'): Promise<Website> {
  const server: Server = createServer((req, res) => {
    if (req.url !== '/') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>A shop</title></head>
<body><h1>A shop</h1><p>Products, prices, and a chat bubble at the bottom right.</p>
${tag()}
</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('the chat page: the no-setup start, two visitors, delete', () => {
  let web: WebBot;
  const watcher = new Watcher();
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // The defaults of `npm start`: loopback, no WEB_TOKEN, no WEB_SESSION_SECRET.
    web = await startWebBot(botEnv());
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await web?.close();
  });

  let alice: Page;
  let bob: Page;

  it('with no setup, / opens a working chat at once', async () => {
    const { context, page } = await newPage(watcher);
    contexts.push(context);
    alice = page;
    const res = await alice.goto(`${web.url}/`);
    expect(res?.status()).toBe(200);
    const csp = res?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res?.headers()['x-content-type-options']).toBe('nosniff');
    await say(alice, 'hello from alice');
    expect(await conversationOf(alice)).toMatch(/^[\w-]{16,}$/);
    await shot(alice, 'page-alice');
    expect(watcher.unexpected()).toEqual([]);
  });

  it("two visitors in two browser contexts: neither sees the other's conversation, in the page or through the API", async () => {
    const { context, page } = await newPage(watcher);
    contexts.push(context);
    bob = page;
    await bob.goto(`${web.url}/`);
    await say(bob, 'hello from bob');
    const [aliceConversation, bobConversation] = [await conversationOf(alice), await conversationOf(bob)];
    expect(aliceConversation).not.toBe(bobConversation);
    expect(await bob.locator('#messages').textContent()).not.toContain('alice');
    expect(await alice.locator('#messages').textContent()).not.toContain('bob');

    // Through the API: each token reads its own conversation, and the other's is a 404.
    const [aliceToken, bobToken] = [await tokenOfPage(alice), await tokenOfPage(bob)];
    expect((await apiGet(web, `/web/conversations/${aliceConversation}`, aliceToken)).status).toBe(200);
    expect((await apiGet(web, `/web/conversations/${aliceConversation}`, bobToken)).status).toBe(404);
    expect((await apiGet(web, `/web/conversations/${bobConversation}`, aliceToken)).status).toBe(404);
    expect((await apiGet(web, `/web/conversations/${aliceConversation}/events?session=${encodeURIComponent(bobToken)}`, bobToken)).status).toBe(404);
    const listed = (await (await apiGet(web, '/web/conversations', bobToken)).json()) as { conversations: { id: string }[] };
    expect(listed.conversations.map((c) => c.id)).toEqual([bobConversation]);

    // Bob's page pointed at Alice's conversation id: it shows nothing of hers.
    watcher.allow(/status of 404/);
    await bob.evaluate(`window.sessionStorage.setItem('parley.conversation', ${JSON.stringify(aliceConversation)})`);
    await bob.reload();
    await expect.poll(() => bob.locator('#status').textContent(), POLL).toContain('no longer available');
    expect(await bob.locator('#messages').textContent()).not.toContain('alice');
    expect(await bob.locator('.msg').count()).toBe(0);
    await shot(bob, 'page-bob-refused');
    expect(watcher.unexpected()).toEqual([]);
  });

  it('a new chat starts a conversation of its own; a reload continues the current one', async () => {
    await alice.reload();
    await alice.locator('.msg.assistant', { hasText: 'echo: hello from alice' }).waitFor();
    const first = await conversationOf(alice);
    await alice.locator('#new').click();
    await expect.poll(() => alice.locator('.msg').count(), POLL).toBe(0);
    await say(alice, 'a second topic');
    const second = await conversationOf(alice);
    expect(second).not.toBe(first);
    expect(await alice.locator('#messages').textContent()).not.toContain('hello from alice');
    expect(watcher.unexpected()).toEqual([]);
  });

  it('each message costs one request while the conversation is followed live: the stream brings it and its answer', async () => {
    const reads: string[] = [];
    const transcriptRead = (request: Request) => {
      if (request.method() === 'GET' && /\/web\/conversations\/[^/]+$/.test(new URL(request.url()).pathname)) reads.push(request.url());
    };
    alice.on('request', transcriptRead);
    await say(alice, 'one more');
    await say(alice, 'and another');
    alice.off('request', transcriptRead);
    expect(reads).toEqual([]);
    expect(watcher.unexpected()).toEqual([]);
  });

  it("a browser whose clock is two hours ahead of the server's starts one session, not one every few seconds", async () => {
    const { context, page } = await newPage(watcher);
    contexts.push(context);
    // The browser's clock only (set by hand, or a dual-boot PC keeping local time as UTC): it runs on as usual.
    await context.clock.install({ time: Date.now() + 2 * 3_600_000 });
    const sessionsStarted: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/web/sessions') sessionsStarted.push(request.url());
    });
    await page.goto(`${web.url}/`);
    await say(page, 'hello from a fast clock');
    await say(page, 'and again');
    // A minute of the page open: the hour-long session needs no renewal yet.
    await page.clock.runFor('01:00');
    await say(page, 'a minute later');
    expect(sessionsStarted).toHaveLength(1);
    expect(watcher.unexpected()).toEqual([]);
  });

  it('a visitor deletes their conversation: it is gone from the page and the API', async () => {
    const conversation = await conversationOf(alice);
    const token = await tokenOfPage(alice);
    expect((await apiGet(web, `/web/conversations/${conversation}`, token)).status).toBe(200);
    await alice.locator('#delete').click();
    await alice.locator('#confirm-delete').waitFor({ state: 'visible' });
    await shot(alice, 'page-delete-confirm');
    await alice.locator('#confirm-delete-yes').click();
    await expect.poll(() => alice.locator('#status').textContent(), POLL).toBe('Conversation deleted.');
    expect(await alice.locator('.msg').count()).toBe(0);
    // None held: '' (this tab has none on show; a tab that never had one, null, shows the visitor's latest).
    expect(await conversationOf(alice)).toBe('');
    expect(await alice.locator('#delete').isDisabled()).toBe(true);
    expect((await apiGet(web, `/web/conversations/${conversation}`, token)).status).toBe(404);
    // The next message starts afresh.
    await say(alice, 'after the delete');
    expect(await conversationOf(alice)).not.toBe(conversation);
    expect(watcher.unexpected()).toEqual([]);
  });

  it('an answer carrying HTML and JavaScript is shown as text; markdown renders as elements', async () => {
    await alice.locator('#input').fill('send the payload');
    await alice.locator('#send').click();
    const answerEl = alice.locator('.msg.assistant', { hasText: 'onerror' });
    await answerEl.waitFor({ timeout: 10_000 });
    await expectInert(alice, alice);
    await shot(alice, 'page-payload');
    expect(watcher.unexpected()).toEqual([]);
  });
});

/** The payload's answer in `target` (a page or the widget's frame): text, not markup; `window.__pwned` never set. */
async function expectInert(target: Page | Frame, page: Page): Promise<void> {
  const answerEl = target.locator('.msg.assistant', { hasText: 'onerror' });
  const text = (await answerEl.textContent()) ?? '';
  expect(text).toContain('<img src=x onerror="window.__pwned=1">');
  expect(text).toContain('[click](javascript:window.__pwned=2)');
  expect(text).toContain('<script>window.__pwned=3</script>');
  expect(await answerEl.locator('img, script, iframe, [onerror]').count()).toBe(0);
  expect(await answerEl.locator('strong').first().textContent()).toBe('bold');
  // The one link is the safe one, opening a new tab without the opener.
  const links = answerEl.locator('a');
  expect(await links.count()).toBe(1);
  expect(await links.first().getAttribute('href')).toBe('https://example.com/help');
  expect(await links.first().getAttribute('rel')).toBe('noopener noreferrer');
  expect(await links.first().getAttribute('target')).toBe('_blank');
  // Anything that would have run has had its chance by now.
  await page.waitForTimeout(300);
  expect(await target.evaluate('window.__pwned')).toBeUndefined();
  expect(await page.evaluate('window.__pwned')).toBeUndefined();
}

describe('a message whose send failed (the queue down a while)', () => {
  let web: WebBot;
  const watcher = new Watcher();
  let context: BrowserContext | undefined;
  let failures = 0;

  beforeAll(async () => {
    // A queue whose adds fail, as they do while Redis restarts: the POST answers 503.
    const queue = new MemoryQueue<JobData>({ attempts: 3, backoffMs: 10, maxBackoffMs: 100 });
    const add = queue.add.bind(queue);
    queue.add = async (job) => {
      if (failures > 0) {
        failures--;
        throw new Error('queue down for a moment');
      }
      return add(job);
    };
    web = await startWebBot(botEnv(), { queue });
  });
  afterAll(async () => {
    await context?.close();
    await web?.close();
  });

  it('is sent again by the page, then given back; sent again as it was it is shown and answered once', async () => {
    const opened = await newPage(watcher);
    context = opened.context;
    const page = opened.page;
    // The browser's clock, so the test can move it past the page's waits between resends.
    await context.clock.install();
    watcher.allow(/503/);
    await page.goto(`${web.url}/`);
    await say(page, 'the first one works');
    // The first try and the page's three resends (chat.js) all meet the outage.
    failures = 4;
    await page.locator('#input').fill('this one meets the outage');
    await page.locator('#send').click();
    // Before each resend the page waits the 503's Retry-After (5 s): its clock is moved on a second at
    // each look instead of the test waiting 15 s out (the resends and their count are what is tested).
    const restored = async () => {
      if (failures > 0) await page.clock.fastForward(1000);
      return page.locator('#input').inputValue();
    };
    await expect.poll(restored, { ...POLL, timeout: 40_000 }).toBe('this one meets the outage');
    expect(failures).toBe(0);
    await page.locator('#send').click();
    await page.locator('.msg.assistant', { hasText: 'echo: this one meets the outage' }).first().waitFor({ timeout: 10_000 });
    await page.waitForTimeout(300);
    expect(await page.locator('.msg.user', { hasText: 'this one meets the outage' }).count()).toBe(1);
    expect(await page.locator('.msg.assistant', { hasText: 'echo: this one meets the outage' }).count()).toBe(1);
    expect(watcher.unexpected()).toEqual([]);
  }, 60_000);
});

describe('event streams with a short maximum age', () => {
  let web: WebBot;
  const watcher = new Watcher();
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    // One stream per visitor: a planned reconnect must find its old stream's slot freed.
    web = await startWebBot(botEnv(), { adapters: [webChat({ page: true, streamMaxAgeMs: 600, limits: { streamsPerVisitor: 1 } })] });
  });
  afterAll(async () => {
    await context?.close();
    await web?.close();
  });

  it('the page opens a new stream as each one ends, without reading the transcript, redrawing it or a word on the status line', async () => {
    const opened = await newPage(watcher);
    context = opened.context;
    const page = opened.page;
    // Each EventSource the page makes (the browser's own reconnect would reuse one), and every status line shown.
    await page.addInitScript(`{
      const Native = window.EventSource;
      window.__streams = 0;
      window.EventSource = class extends Native { constructor(...args) { super(...args); window.__streams++; } };
      window.__statuses = [];
      document.addEventListener('DOMContentLoaded', () => {
        const status = document.getElementById('status');
        new MutationObserver(() => { if (status.textContent) window.__statuses.push(status.textContent); }).observe(status, { childList: true, characterData: true, subtree: true });
      });
    }`);
    const reads: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'GET' && /\/web\/conversations\/[^/]+$/.test(new URL(request.url()).pathname)) reads.push(request.url());
    });
    await page.goto(`${web.url}/`);
    await say(page, 'hello before the streams age');
    // The transcript as drawn now: a redraw would replace this node.
    await page.evaluate("document.querySelector('.msg.assistant').dataset.drawn = 'once'");
    const readsBefore = reads.length;
    const streamsBefore = (await page.evaluate('window.__streams')) as number;
    // Streams end every 480-600 ms; the page has replaced its own twice.
    await expect.poll(() => page.evaluate('window.__streams'), POLL).toBeGreaterThanOrEqual(streamsBefore + 2);
    expect(reads.slice(readsBefore)).toEqual([]);
    expect(await page.locator('.msg.assistant[data-drawn="once"]').count()).toBe(1);
    // And the conversation is still followed live: the next answer arrives.
    await say(page, 'still answered after the reconnects');
    expect(await page.locator('.msg.assistant', { hasText: 'echo: still answered after the reconnects' }).count()).toBe(1);
    expect(await page.evaluate('window.__statuses')).toEqual([]);
    expect(watcher.unexpected()).toEqual([]);
  });
});

describe('the widget on a website of another origin', () => {
  let web: WebBot;
  let allowed: Website;
  let refused: Website;
  let sameSite: Website;
  const watcher = new Watcher();
  const contexts: BrowserContext[] = [];
  const tag = (title: string, color: string) => () =>
    `<script src="${web.url}/web/widget.js" data-parley-url="${web.url}" data-title="${title}" data-color="${color}" async></script>`;

  beforeAll(async () => {
    // The websites first: the bot's allow-list names one of them.
    allowed = await startWebsite(tag('Help', '#0a7'));
    refused = await startWebsite(tag('Sneaky', '#a00'));
    sameSite = await startWebsite(tag('Same site', '#333'), '127.0.0.1');
    web = await startWebBot(botEnv({ WEB_ALLOWED_ORIGINS: `${allowed.origin},${sameSite.origin}` }));
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await web?.close();
    await allowed?.close();
    await refused?.close();
    await sameSite?.close();
  });

  const chatFrame = async (page: Page): Promise<Frame> => {
    await expect.poll(() => page.frames().some((frame) => frame.url().includes('/web/frame')), POLL).toBe(true);
    return page.frames().find((frame) => frame.url().includes('/web/frame'))!;
  };

  it('serves widget.js to any origin, cacheable; the frame may be framed only by the allowed origins', async () => {
    const script = await fetch(`${web.url}/web/widget.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(script.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const frame = await fetch(`${web.url}/web/frame?title=x`);
    expect(frame.headers.get('content-security-policy')).toContain(`frame-ancestors 'self' ${allowed.origin}`);
    expect((await fetch(`${web.url}/web/assets/chat.js`)).status).toBe(200);
    expect((await fetch(`${web.url}/web/assets/../adapter.ts`)).status).toBe(404);
    expect((await fetch(`${web.url}/web/assets/page.html`)).status).toBe(404);
  });

  let page: Page;
  let frame: Frame;

  it('with the website in WEB_ALLOWED_ORIGINS: the bubble opens the chat in an iframe and a round trip works', async () => {
    const opened = await newPage(watcher);
    contexts.push(opened.context);
    page = opened.page;
    await page.goto(allowed.url);
    const bubble = page.locator('[data-parley="bubble"]');
    await bubble.waitFor();
    // Nothing is loaded (no session started) before the visitor asks for the chat.
    expect(page.frames()).toHaveLength(1);
    expect(await page.evaluate('Object.keys(window).filter((key) => /parley/i.test(key))')).toEqual(['parleyWidget']);
    await bubble.click();
    frame = await chatFrame(page);
    await frame.locator('#input').waitFor();
    // The frame's script applies the title and colour once it runs, which can be after #input is there.
    await expect.poll(() => frame.locator('#title').textContent(), POLL).toBe('Help');
    // The colour from data-color, applied through a CSS custom property (no inline style attribute).
    await expect.poll(() => frame.evaluate("getComputedStyle(document.getElementById('send')).backgroundColor"), POLL).toBe('rgb(0, 170, 119)');
    await say(frame, 'hello from the shop');
    await shot(page, 'widget-open');
    // The frame's close button closes the widget from inside.
    await frame.locator('#close').click();
    await expect.poll(() => page.locator('[data-parley="frame"]').isVisible(), POLL).toBe(false);
    await bubble.click();
    await expect.poll(() => page.locator('[data-parley="frame"]').isVisible(), POLL).toBe(true);
    expect(watcher.unexpected()).toEqual([]);
  });

  it("the API answers the allowed website's scripts (CORS), with a preflight for JSON", async () => {
    const result = await page.evaluate(async (bot) => {
      const session = await fetch(`${bot}/web/sessions`, { method: 'POST' });
      const { token } = (await session.json()) as { token: string };
      const message = await fetch(`${bot}/web/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'hello over CORS' }),
      });
      return { session: session.status, message: message.status, body: (await message.json()) as { conversation?: string } };
    }, web.url);
    expect(result.session).toBe(201);
    expect(result.message).toBe(202);
    expect(result.body.conversation).toBeTruthy();
    expect(watcher.unexpected()).toEqual([]);
  });

  it("an answer carrying HTML and JavaScript is inert in the widget's frame too", async () => {
    await frame.locator('#input').fill('show me the payload');
    await frame.locator('#send').click();
    await frame.locator('.msg.assistant', { hasText: 'onerror' }).waitFor({ timeout: 10_000 });
    await expectInert(frame, page);
    await shot(page, 'widget-payload');
    expect(watcher.unexpected()).toEqual([]);
  });

  it("a reload of the website continues the chat where the browser gives the frame storage (a same-site website); elsewhere it starts afresh", async () => {
    const opened = await newPage(watcher);
    contexts.push(opened.context);
    const sitePage = opened.page;
    await sitePage.goto(sameSite.url);
    await sitePage.locator('[data-parley="bubble"]').click();
    let sameSiteFrame = await chatFrame(sitePage);
    await say(sameSiteFrame, 'hello from the same site');
    const conversation = await conversationOf(sameSiteFrame);
    expect(conversation).toBeTruthy();
    await sitePage.reload();
    await sitePage.locator('[data-parley="bubble"]').click();
    sameSiteFrame = await chatFrame(sitePage);
    await sameSiteFrame.locator('.msg.assistant', { hasText: 'echo: hello from the same site' }).waitFor({ timeout: 10_000 });
    expect(await conversationOf(sameSiteFrame)).toBe(conversation);

    // Another site's frame gets no storage here (Chromium's off-the-record contexts block third-party
    // storage, as Safari and some settings do): the chat still works, as a new conversation.
    await page.reload();
    await page.locator('[data-parley="bubble"]').click();
    frame = await chatFrame(page);
    await say(frame, 'back on the shop');
    expect(watcher.unexpected()).toEqual([]);
  });

  it('an hour and more later (a laptop that slept) the frame on another site is the same visitor: its conversation goes on', async () => {
    const opened = await newPage(watcher);
    contexts.push(opened.context);
    const sleeper = opened.page;
    // The browser's clock only: the frame decides by it that its hour-long token has expired.
    await opened.context.clock.install();
    await sleeper.goto(allowed.url);
    await sleeper.locator('[data-parley="bubble"]').click();
    const sleepy = await chatFrame(sleeper);
    await say(sleepy, 'hello before the nap');
    await sleeper.clock.fastForward('02:00:00');
    await say(sleepy, 'hello after the nap');
    // The same conversation: the first exchange is still on show, and nothing says it is gone.
    await expect.poll(() => sleepy.locator('.msg.user > .text').allTextContents(), POLL).toEqual(['hello before the nap', 'hello after the nap']);
    await expect.poll(() => sleepy.locator('.msg.assistant').count(), POLL).toBe(2);
    expect(await sleepy.locator('#status').textContent()).not.toMatch(/no longer available/);
    expect(watcher.unexpected()).toEqual([]);
  });

  it('where the frame has storage, a reload after its token expired keeps the visitor (the renew token in localStorage) and the conversation', async () => {
    const opened = await newPage(watcher);
    contexts.push(opened.context);
    const sitePage = opened.page;
    await sitePage.goto(sameSite.url);
    await sitePage.locator('[data-parley="bubble"]').click();
    let siteFrame = await chatFrame(sitePage);
    await say(siteFrame, 'hello before the day ended');
    const conversation = await conversationOf(siteFrame);
    expect(conversation).toBeTruthy();
    expect(await siteFrame.evaluate("window.localStorage.getItem('parley.renew')")).toMatch(/^r1\./);
    // A token whose hour is up, as a tab finds it the next day.
    await siteFrame.evaluate("window.sessionStorage.setItem('parley.session', 'v1.expired.1000.mac')");
    await sitePage.reload();
    await sitePage.locator('[data-parley="bubble"]').click();
    siteFrame = await chatFrame(sitePage);
    await siteFrame.locator('.msg.assistant', { hasText: 'echo: hello before the day ended' }).waitFor({ timeout: 10_000 });
    expect(await conversationOf(siteFrame)).toBe(conversation);
    expect(await siteFrame.locator('#status').textContent()).not.toMatch(/no longer available/);
    expect(watcher.unexpected()).toEqual([]);
  });

  it('works 420 px wide: the chat fits the screen', async () => {
    const narrow = await newPage(watcher, { viewport: { width: 420, height: 780 } });
    contexts.push(narrow.context);
    await narrow.page.goto(allowed.url);
    await narrow.page.locator('[data-parley="bubble"]').click();
    const small = await chatFrame(narrow.page);
    await say(small, 'hello from a phone');
    const box = await narrow.page.locator('[data-parley="frame"]').boundingBox();
    expect(box).not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(420);
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(await narrow.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);
    expect(await small.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await shot(narrow.page, 'widget-420px');
    expect(watcher.unexpected()).toEqual([]);
  });

  it('on a website NOT in WEB_ALLOWED_ORIGINS: the frame is refused (frame-ancestors) and so are cross-origin API calls (CORS)', async () => {
    const other = new Watcher();
    const opened = await newPage(other);
    contexts.push(opened.context);
    const sneaky = opened.page;
    await sneaky.goto(refused.url);
    await sneaky.locator('[data-parley="bubble"]').click();
    // Chromium reports the refusal and shows its error page instead of the chat.
    await expect.poll(() => other.seen.some((line) => /frame-ancestors/.test(line)), POLL).toBe(true);
    const refusedFrame = sneaky.frames().find((f) => f !== sneaky.mainFrame());
    expect(refusedFrame).toBeDefined();
    await expect.poll(() => refusedFrame!.url(), POLL).toMatch(/^(about:blank|chrome-error:)/);
    expect(await refusedFrame!.locator('#input').count()).toBe(0);

    const calls = await sneaky.evaluate(async (bot) => {
      const outcome = (promise: Promise<Response>) => promise.then((res) => `status ${res.status}`, (error: Error) => `refused: ${error.name}`);
      return {
        // a "simple" request: sent, but the answer is kept from the page (no allow-origin)
        session: await outcome(fetch(`${bot}/web/sessions`, { method: 'POST' })),
        // JSON needs a preflight, which gets a 403
        message: await outcome(fetch(`${bot}/web/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"hi"}' })),
      };
    }, web.url);
    expect(calls).toEqual({ session: 'refused: TypeError', message: 'refused: TypeError' });
    const preflight = await fetch(`${web.url}/web/messages`, {
      method: 'OPTIONS',
      headers: { origin: refused.origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    await shot(sneaky, 'widget-refused');
    other.allow(/frame-ancestors/, /blocked by CORS policy/, /net::ERR_FAILED/, /status of 403/);
    expect(other.unexpected()).toEqual([]);
  });
});

/** A context whose every request says it came through a proxy from `address`. */
const behindProxy = (watcher: Watcher, address: string) => newPage(watcher, { extraHTTPHeaders: { 'x-forwarded-for': address } });

for (const trustProxy of [true, false]) {
  describe(`per-address limits with TRUST_PROXY=${trustProxy}`, () => {
    let web: WebBot;
    const watcher = new Watcher();
    const contexts: BrowserContext[] = [];

    beforeAll(async () => {
      web = await startWebBot(botEnv({ TRUST_PROXY: String(trustProxy), WEB_REQUESTS_PER_IP_PER_MINUTE: '8' }));
    });
    afterAll(async () => {
      for (const context of contexts) await context.close();
      await web?.close();
    });

    it(`the page says clearly when a visitor is limited; ${trustProxy ? 'another forwarded address is not' : 'every forwarded address shares the budget'}`, async () => {
      watcher.allow(/status of 429/, /EventSource/);
      const first = await behindProxy(watcher, '203.0.113.10');
      contexts.push(first.context);
      expect((await first.page.goto(`${web.url}/`))?.status()).toBe(200);
      await expect.poll(() => first.page.locator('#status').textContent(), POLL).toBe('');
      // Page, style, script and session took 4 of the 8: a few messages use up the rest.
      for (let i = 0; i < 6 && !/Too many requests/.test((await first.page.locator('#status').textContent()) ?? ''); i++) {
        await first.page.locator('#input').fill(`message ${i}`);
        await first.page.locator('#send').click();
        await first.page.waitForTimeout(300);
      }
      await expect.poll(() => first.page.locator('#status').textContent(), POLL).toMatch(/^Too many requests: please wait \d+ seconds? and try again\.$/);
      await shot(first.page, `limited-trust-proxy-${trustProxy}`);

      const second = await behindProxy(watcher, '203.0.113.11');
      contexts.push(second.context);
      const res = await second.page.goto(`${web.url}/`);
      if (trustProxy) {
        expect(res?.status()).toBe(200);
        await say(second.page, 'from another address');
      } else {
        expect(res?.status()).toBe(429);
      }
      expect(watcher.unexpected()).toEqual([]);
    });
  });
}
