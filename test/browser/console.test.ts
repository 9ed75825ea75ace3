/**
 * The operator console in a real browser (Debian's chromium through playwright-core), against a
 * real bot (web chat adapter, memory defaults), the fake OpenAI server and a fake alert webhook.
 * One browser and one bot for the whole file; the steps build on each other, in order:
 * sign in, watch the overview move, dead letters (replay, replay all, drop, purge; a long one folded), the budget crossed
 * (one alert per kind, exactly one "exceeded"), raised with its form and put back, more conversations than one page ("Show more"),
 * 420 px wide, and no console or page errors.
 * Screenshots land in test-results/console/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserText, startFakeOpenAi, type ChatCall, type FakeOpenAi, type ScriptedAnswer } from '../fakes/openai-server.js';
import type { JobData } from '../../src/index.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN_TOKEN = 'console-test-admin-token-0123456789';
const SHOTS = 'test-results/console';
/** $0.001 a day: the small answers of the first steps cost $0.0000048 each (12 + 5 tokens). */
const DAY_BUDGET_USD = 0.001;
/** 2000 in + 1000 out of gpt-4o-mini: $0.0009, 90% of the budget; a second one passes 100%. */
const EXPENSIVE_USAGE = { prompt_tokens: 2000, completion_tokens: 1000, total_tokens: 3000 };
const POLL = { timeout: 10_000, interval: 50 };

/** What the fake AI does now. */
let aiMode: 'echo' | 'down' | 'expensive' = 'echo';

function answer(call: ChatCall): ScriptedAnswer {
  if (aiMode === 'down') return { status: 503 };
  if (aiMode === 'echo') return { text: `echo: ${lastUserText(call)}` };
  return {
    body: {
      id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: call.body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: `pricey: ${lastUserText(call)}` }, finish_reason: 'stop' }],
      usage: EXPENSIVE_USAGE,
    },
  };
}

/** A Slack-incoming-webhook stand-in: records each POSTed JSON body. */
interface FakeWebhook {
  url: string;
  posts: { text?: unknown }[];
  close(): Promise<void>;
}

async function startFakeWebhook(): Promise<FakeWebhook> {
  const posts: { text?: unknown }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        posts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text?: unknown });
      } catch {
        posts.push({ text: undefined });
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/alerts`,
    posts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('operator console in a browser', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let ai: FakeOpenAi;
  let webhook: FakeWebhook;
  let web: WebBot;
  const problems: string[] = [];
  /** The 401s the test provokes on purpose (a wrong token, a session gone): Chromium logs each. */
  const refusals: string[] = [];
  let provoking401 = false;

  /** Every page of the run reports its console errors and uncaught exceptions here. */
  function watch(target: Page): Page {
    target.on('console', (message) => {
      if (message.type() !== 'error') return;
      const where = message.location().url;
      const path = where ? new URL(where).pathname : '';
      if (provoking401 && /status of 401/.test(message.text()) && (path === '/console/login' || path.startsWith('/console/api/'))) refusals.push(path);
      else problems.push(`console error on ${target.url()}: ${message.text()} (${where})`);
    });
    target.on('pageerror', (error) => problems.push(`page error on ${target.url()}: ${error.message}`));
    return target;
  }

  const byTestId = (id: string, scope = 'body') => page.locator(`${scope} [data-testid="${id}"]`);
  const overview = (id: string) => byTestId(id, '#view-overview');
  const textOf = (locator: Locator) => async () => (await locator.textContent())?.trim();
  const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  const api = async (path: string) => {
    const res = await fetch(`${web.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status, `GET ${path}`).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };
  const noOverflow = async () => expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(await page.evaluate('window.innerWidth'));
  async function openTab(name: string) {
    await page.locator(`nav [data-tab="${name}"]`).click();
    await page.locator(`#view-${name}`).waitFor({ state: 'visible' });
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH`);
    }
    mkdirSync(SHOTS, { recursive: true });
    [ai, webhook] = await Promise.all([startFakeOpenAi(answer), startFakeWebhook()]);
    web = await startWebBot({
      ADMIN_TOKEN,
      OPENAI_BASE_URL: ai.url,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'gpt-4o-mini',
      AI_BUDGET_USD_PER_DAY: String(DAY_BUDGET_USD),
      AI_BUDGET_POLICY: 'notice',
      ALERT_WEBHOOK_URL: webhook.url,
      CACHE_TTL_SECONDS: '0',
      JOB_ATTEMPTS: '2',
      JOB_BACKOFF_MS: '20',
      // an outage dead-letters in milliseconds, and the breaker stays closed for the replay
      AI_ATTEMPTS: '2',
      AI_BREAKER_THRESHOLD: '100',
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = watch(await context.newPage());
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await Promise.all([ai?.close(), webhook?.close()]);
  });

  it('shows the sign-in page, refuses a wrong token, and signs in with the right one', async () => {
    expect((await fetch(`${web.url}/console/api/overview`)).status).toBe(401);
    await page.goto(`${web.url}/console`);
    await byTestId('token').waitFor();
    expect(await page.locator('#view-overview').count()).toBe(0);
    expect(await textOf(byTestId('signin-error'))()).toBe('');
    await shot('sign-in');

    provoking401 = true;
    await byTestId('token').fill('not-the-admin-token-at-all');
    await byTestId('signin').click();
    await expect.poll(textOf(byTestId('signin-error')), POLL).not.toBe('');
    expect(await byTestId('token').isVisible()).toBe(true);
    provoking401 = false;

    await byTestId('token').fill(ADMIN_TOKEN);
    await byTestId('signin').click();
    await page.locator('#view-overview').waitFor({ state: 'visible' });
    expect(new URL(page.url()).pathname).toBe('/console');
    await expect.poll(textOf(byTestId('live')), POLL).toBe('live');
    await expect.poll(textOf(overview('received-hour')), POLL).toBe('0');
  });

  it('the overview moves as messages are answered', async () => {
    for (const [conversation, text] of [
      ['console-a', 'what are your opening hours?'],
      ['console-b', 'do you ship to Norway? <b>bold</b> & "quotes"'],
      ['console-a', 'and on Sundays?'],
    ] as const) {
      expect((await web.post(conversation, text)).status).toBeLessThan(300);
    }
    await web.waitFor('console-a', (e) => assistantReplies(e).length === 2);
    await web.waitFor('console-b', (e) => assistantReplies(e).length === 1);
    // the numbers arrive through the event stream (an overview every 2 s)
    await expect.poll(textOf(overview('received-hour')), POLL).toBe('3');
    await expect.poll(textOf(overview('answered-hour')), POLL).toBe('3');
    expect(await textOf(overview('apologised-hour'))()).toBe('0');
    expect(await textOf(overview('p50'))()).toMatch(/\d+(\.\d+)? (ms|s)$/);
    expect(await textOf(overview('p95'))()).toMatch(/\d+(\.\d+)? (ms|s)$/);
    expect(await textOf(overview('queue-waiting'))()).toBe('0');
    expect(await textOf(overview('dead-letters'))()).toBe('0');
    expect(await textOf(overview('breaker'))()).toBe('closed');
    expect(await textOf(overview('rate-limited'))()).toBe('0');
    // three answers of $0.0000048: their digits, not <$0.0001
    expect(await textOf(overview('spend-today'))()).toMatch(/^\$0\.0000\d+$/);
    expect(await page.locator('#spend-by-model').textContent()).toContain('gpt-4o-mini');
    await expect.poll(textOf(overview('budget-overall-day-state')), POLL).toBe('ok');
    // three bars' worth of traffic in the chart's current minute
    expect(await page.locator('#chart svg rect.received').count()).toBeGreaterThan(0);
    await shot('overview');
  });

  it('lists conversations, filters them and opens a transcript', async () => {
    // a 👎 with a reason on the Norway answer (what the web chat's or Slack's buttons store)
    const log = web.bot.conversationLog;
    const [norway] = await log.search!({ text: 'norway' });
    const [rated] = await log.list(norway!.conversationId);
    expect(await log.rate!(norway!.conversationId, rated!.id!, { rating: 'bad', reason: 'Not <i>Norway</i> & co', at: new Date().toISOString(), user: 'visitor-b' })).toEqual({});
    await openTab('conversations');
    const rows = page.locator('#conversation-rows [data-testid="conversation"]');
    await expect.poll(() => rows.count(), POLL).toBe(2);
    await byTestId('filter-text').fill('norway');
    await expect.poll(() => rows.count(), POLL).toBe(1);
    expect(await rows.first().getAttribute('data-id')).toContain('console-b');
    expect(await rows.first().locator('[data-testid="conversation-ratings"]').textContent()).toBe('👎 1');
    await byTestId('filter-text').fill('');
    await byTestId('filter-sort').selectOption('cost');
    await byTestId('filter-platform').selectOption('web');
    await expect.poll(() => rows.count(), POLL).toBe(2);
    expect(await byTestId('not-searchable').isVisible()).toBe(false);

    await rows.filter({ hasText: 'Norway' }).click();
    const transcript = byTestId('transcript');
    await transcript.waitFor({ state: 'visible' });
    expect(new URL(page.url()).hash).toMatch(/^#conversations\//);
    const exchange = transcript.locator('[data-testid="exchange"]');
    await expect.poll(() => exchange.count(), POLL).toBe(1);
    // what people wrote is text, never markup
    expect(await exchange.locator('[data-testid="exchange-input"]').textContent()).toBe('do you ship to Norway? <b>bold</b> & "quotes"');
    expect(await transcript.locator('b').count()).toBe(0);
    expect(await exchange.locator('[data-testid="exchange-output"]').textContent()).toBe('echo: do you ship to Norway? <b>bold</b> & "quotes"');
    expect(await exchange.locator('[data-testid="exchange-model"]').textContent()).toContain('gpt-4o-mini');
    expect(await exchange.locator('[data-testid="exchange-tokens"]').textContent()).toMatch(/12 in · 5 out/);
    expect(await exchange.locator('[data-testid="exchange-cost"]').textContent()).toMatch(/\$0\.\d{4}/);
    expect(await exchange.locator('[data-testid="exchange-latency"]').textContent()).toMatch(/\d+(\.\d+)? (ms|s)$/);
    const feedback = await exchange.locator('[data-testid="exchange-feedback"]').textContent();
    expect(feedback).toMatch(/^rated 👎 bad by visitor-b · .+ — “Not <i>Norway<\/i> & co”$/);
    expect(await transcript.locator('i').count()).toBe(0);
    await shot('conversations');
    await byTestId('transcript-close').click();
    await transcript.waitFor({ state: 'hidden' });
  });

  it('an AI outage dead-letters messages; replay, replay all, drop and purge (each with its confirmation) work', async () => {
    aiMode = 'down';
    await web.post('outage-1', 'are you there? first');
    await web.post('outage-2', 'are you there? second');
    await web.waitFor('outage-1', (e) => assistantReplies(e).length === 1);
    await web.waitFor('outage-2', (e) => assistantReplies(e).length === 1);
    expect(assistantReplies(await web.transcript('outage-1')).map((e) => e.kind)).toEqual(['apology']);

    await openTab('dead-letters');
    const rows = page.locator('#dead-letter-rows [data-testid="dead-letter"]');
    // the open tab follows the overview's dead-letter count; Refresh is there too
    await expect.poll(async () => (await rows.count()) || (await byTestId('dead-refresh').click(), 0), POLL).toBe(2);
    const first = rows.filter({ hasText: 'are you there? first' });
    expect(await first.locator('[data-testid="dead-letter-error"]').textContent()).toMatch(/503/);
    await first.locator('[data-testid="payload-toggle"]').click();
    const payload = page.locator(`#dead-letter-rows tr[data-payload-for="${await first.getAttribute('data-id')}"] [data-testid="payload"]`);
    await payload.waitFor({ state: 'visible' });
    expect(JSON.parse((await payload.textContent()) ?? '')).toMatchObject({ message: { text: 'are you there? first' } });
    await shot('dead-letters');
    await expect.poll(textOf(overview('dead-letters')), POLL).toBe('2');
    await expect.poll(textOf(overview('apologised-hour')), POLL).toBe('2');
    await expect.poll(textOf(overview('dead-lettered-hour')), POLL).toBe('2');

    aiMode = 'echo';
    await first.locator('[data-testid="replay"]').click();
    await expect.poll(textOf(byTestId('status')), POLL).toMatch(/^Replayed dead letter/);
    const replayed = await web.waitFor('outage-1', (e) => assistantReplies(e).length === 2);
    expect(assistantReplies(replayed)[1]?.text).toBe('echo: are you there? first');
    await expect.poll(() => rows.count(), POLL).toBe(1);

    await byTestId('replay-all').click();
    await expect.poll(textOf(byTestId('status')), POLL).toBe('Replayed 1 dead letter.');
    await web.waitFor('outage-2', (e) => assistantReplies(e).length === 2);
    await expect.poll(() => rows.count(), POLL).toBe(0);
    expect(await byTestId('dead-letters-empty').isVisible()).toBe(true);

    aiMode = 'down';
    await web.post('outage-3', 'are you there? third');
    await web.waitFor('outage-3', (e) => assistantReplies(e).length === 1);
    aiMode = 'echo';
    await expect.poll(async () => (await rows.count()) || (await byTestId('dead-refresh').click(), 0), POLL).toBe(1);

    // a letter that is no parley job (replayed, it would only fail again): Drop… asks, Cancel keeps it, Drop deletes it alone
    const letter = { id: 'not-a-job-1', group: 'not-a-job-1', data: { type: 'unknown' } as unknown as JobData, error: 'not a parley job', reason: 'invalid_job', attempts: 1, failedAt: new Date().toISOString() };
    await web.bot.queue.addDeadLetter(letter);
    await expect.poll(async () => (await rows.count()) === 2 || (await byTestId('dead-refresh').click(), false), POLL).toBe(true);
    const notAJob = page.locator('#dead-letter-rows [data-testid="dead-letter"][data-id="not-a-job-1"]');
    await notAJob.locator('[data-testid="drop"]').click();
    const dropDialog = byTestId('drop-dialog');
    await dropDialog.waitFor({ state: 'visible' });
    expect(await textOf(byTestId('drop-id'))()).toBe('not-a-job-1');
    await shot('drop-dialog');
    await byTestId('drop-cancel').click();
    await dropDialog.waitFor({ state: 'hidden' });
    await expect.poll(textOf(byTestId('status')), POLL).toBe('Drop cancelled: dead letter not-a-job-1 is kept.');
    expect(await rows.count()).toBe(2);
    await notAJob.locator('[data-testid="drop"]').click();
    await byTestId('drop-confirm').click();
    await expect.poll(textOf(byTestId('status')), POLL).toBe('Dropped dead letter not-a-job-1.');
    await expect.poll(() => rows.count(), POLL).toBe(1);
    expect(((await api('/console/api/dead-letters')).deadLetters as { conversation: string }[]).map((l) => l.conversation)).toEqual(['outage-3']);

    // Cancel keeps them; Purge in the dialog deletes them
    await byTestId('purge').click();
    const dialog = byTestId('purge-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.textContent()).toContain('the 1 dead letter');
    await shot('purge-dialog');
    await byTestId('purge-cancel').click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(textOf(byTestId('status')), POLL).toMatch(/cancelled/);
    expect(await rows.count()).toBe(1);

    await byTestId('purge').click();
    await byTestId('purge-confirm').click();
    await expect.poll(textOf(byTestId('status')), POLL).toBe('Purged 1 dead letter.');
    await expect.poll(() => rows.count(), POLL).toBe(0);
    expect(await api('/console/api/dead-letters')).toEqual({ deadLetters: [], count: 0, more: false });
    expect(assistantReplies(await web.transcript('outage-3'))).toHaveLength(1);
    await expect.poll(textOf(overview('dead-letters')), POLL).toBe('0');
    // the minutes keep what happened: three went to the dead letters this hour
    await expect.poll(textOf(overview('dead-lettered-hour')), POLL).toBe('3');
  }, 30_000);

  it('a dead letter with a long text and a stack trace stays a few lines high; "show all" shows each whole, "show less" folds it again', async () => {
    await openTab('dead-letters');
    // a 4,000-character question (with markup in it) and a 61-line stack trace, next to a short letter
    const question = `${'Why has my order not arrived yet? '.repeat(117)}<b>bold</b> the end`;
    const trace = ['Error: upstream answered 500', ...Array.from({ length: 60 }, (_, n) => `    at frame${n} (/app/node_modules/some/deep/path/file-${n}.js:${n + 10}:7)`)].join('\n');
    const letter = (id: string, text: string, error: string) => {
      const message = { id, platform: 'web', conversation: { platform: 'web', id: `conv-${id}` }, user: { id: 'long-user' }, text, receivedAt: new Date().toISOString(), raw: {} };
      return { id: `web.${id}`, group: `web.conv-${id}`, data: { type: 'message', message } as unknown as JobData, error, reason: 'attempts_exhausted', attempts: 2, failedAt: new Date().toISOString() };
    };
    await web.bot.queue.addDeadLetter(letter('long-1', question, trace));
    await web.bot.queue.addDeadLetter(letter('short-1', 'a short question', 'boom'));
    const rows = page.locator('#dead-letter-rows [data-testid="dead-letter"]');
    await expect.poll(async () => (await rows.count()) === 2 || (await byTestId('dead-refresh').click(), false), POLL).toBe(true);
    // The live overview draws the list again when its count of dead letters moves: once it counts
    // both, the list is drawn once more (the newest load wins over one still on its way), so no
    // redraw comes while the rows are measured and their buttons pressed.
    await expect.poll(textOf(overview('dead-letters')), POLL).toBe('2');
    const drawn = await rows.first().elementHandle();
    await byTestId('dead-refresh').click();
    await expect.poll(() => drawn!.evaluate((tr) => tr.isConnected), POLL).toBe(false);
    await expect.poll(() => rows.count(), POLL).toBe(2);
    const ROW = '#dead-letter-rows [data-testid="dead-letter"][data-id="web.long-1"]';
    const TEXT = `${ROW} [data-testid="dead-letter-text"] > div`;
    const ERROR = `${ROW} [data-testid="dead-letter-error"] > div`;
    const row = page.locator(ROW);
    const text = page.locator(TEXT);
    const error = page.locator(ERROR);
    // Found and measured in one call in the page. The list is drawn again whenever the live overview's
    // count of dead letters moves (here just after the two were added), and a locator's evaluate finds
    // the element in one call and measures it in another: a row replaced between the two is measured
    // detached, 0 px high, its text not cut.
    const measure = (selector: string) =>
      page.locator(':root').evaluate((root, found) => {
        const nodes = root.querySelectorAll(found);
        if (nodes.length !== 1) throw new Error(`${nodes.length} elements match ${found}`);
        return { height: nodes[0].getBoundingClientRect().height, cut: nodes[0].scrollHeight > nodes[0].clientHeight + 1 };
      }, selector);
    const height = async () => (await measure(ROW)).height;
    const cut = async (selector: string) => (await measure(selector)).cut;
    expect(await height(), 'the long letter\'s row, folded').toBeLessThan(200);
    expect(await cut(TEXT)).toBe(true);
    expect(await cut(ERROR)).toBe(true);
    // whole in the page all along (to select, copy, read out), and as text: the <b> is no markup
    expect(await text.textContent()).toBe(question);
    expect(await error.textContent()).toBe(trace);
    expect(await row.locator('b').count()).toBe(0);
    const textToggle = row.locator('[data-testid="text-toggle"]');
    const errorToggle = row.locator('[data-testid="error-toggle"]');
    await textToggle.waitFor({ state: 'visible' });
    await errorToggle.waitFor({ state: 'visible' });
    expect(await textToggle.getAttribute('aria-expanded')).toBe('false');
    expect(await textToggle.getAttribute('aria-controls')).toBe(await text.getAttribute('id'));
    // the short letter, measured in the same pass, has nothing to open
    const short = rows.and(page.locator('[data-id="web.short-1"]'));
    expect(await short.locator('button.clamp-toggle:visible').count()).toBe(0);
    await shot('dead-letter-long');

    await textToggle.click();
    expect(await textToggle.getAttribute('aria-expanded')).toBe('true');
    expect(await textToggle.textContent()).toBe('show less');
    expect(await cut(TEXT)).toBe(false);
    expect(await height()).toBeGreaterThan(400);
    expect(await cut(ERROR), 'the error stays folded').toBe(true);
    await shot('dead-letter-long-open');

    // from the keyboard: Enter on the focused button folds it again
    await textToggle.focus();
    await page.keyboard.press('Enter');
    expect(await textToggle.getAttribute('aria-expanded')).toBe('false');
    expect(await textToggle.textContent()).toBe('show all');
    expect(await cut(TEXT)).toBe(true);
    expect(await height()).toBeLessThan(200);

    // an opened error stays open when the list is loaded again
    await errorToggle.click();
    const before = await row.elementHandle();
    await byTestId('dead-refresh').click();
    await expect.poll(() => before!.evaluate((tr) => tr.isConnected), POLL).toBe(false);
    expect(await errorToggle.getAttribute('aria-expanded')).toBe('true');
    expect(await cut(ERROR)).toBe(false);
    expect(await cut(TEXT)).toBe(true);
  }, 30_000);

  it('crossing the day budget shows it exceeded and posts each alert once, exactly one "exceeded"', async () => {
    aiMode = 'expensive';
    await web.post('budget-1', 'an expensive question');
    await web.waitFor('budget-1', (e) => assistantReplies(e).length === 1);
    await expect.poll(textOf(overview('budget-overall-day-state')), POLL).toBe('warning');
    await web.post('budget-2', 'another expensive question');
    await web.waitFor('budget-2', (e) => assistantReplies(e).length === 1);
    await expect.poll(textOf(overview('budget-overall-day-state')), POLL).toBe('exceeded');
    const isExceeded = (text: unknown) => typeof text === 'string' && /budget/i.test(text) && /exceeded|100\s?%/i.test(text);
    await expect.poll(() => webhook.posts.filter((p) => isExceeded(p.text)).length, POLL).toBe(1);

    // past the budget (policy notice) the AI is not called, and nothing is posted again
    const callsBefore = ai.calls.length;
    for (const conversation of ['budget-3', 'budget-4', 'budget-3']) await web.post(conversation, 'still there?');
    await web.waitFor('budget-3', (e) => assistantReplies(e).length === 2);
    await web.waitFor('budget-4', (e) => assistantReplies(e).length === 1);
    expect(assistantReplies(await web.transcript('budget-4')).map((e) => e.kind)).toEqual(['notice']);
    expect(ai.calls.length).toBe(callsBefore);
    await expect.poll(textOf(overview('received-hour')), POLL).toBe('11');

    await openTab('budgets');
    const budgetRow = byTestId('budget-overall-day', '#view-budgets');
    await expect.poll(textOf(byTestId('budget-overall-day-state', '#view-budgets')), POLL).toBe('exceeded');
    expect(await budgetRow.textContent()).toMatch(/\$0\.00\d\d of \$0\.0010/);
    expect(await textOf(byTestId('budget-policy'))()).toBe('notice');
    expect(await textOf(byTestId('alert-webhook'))()).toBe('set');
    expect(await textOf(byTestId('limit-day'))()).toBe('$0.0010');
    const alertRows = page.locator('#alert-rows [data-testid="alert-row"]');
    await expect.poll(() => alertRows.first().getAttribute('data-kind'), POLL).toBe('budget_exceeded');
    const kinds = await alertRows.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-kind')));
    expect(kinds).toEqual(['budget_exceeded', 'budget_warning']);
    await shot('budgets');

    // each post is one alert of the log, and no kind was posted twice
    const { alerts } = (await api('/console/api/alerts')) as { alerts: { kind: string; text: string; delivered: boolean }[] };
    const kindOf = new Map(alerts.map((a) => [a.text, a.kind]));
    const posted = webhook.posts.map((p) => kindOf.get(String(p.text)) ?? `unknown: ${String(p.text)}`);
    expect(posted.sort()).toEqual(['budget_exceeded', 'budget_warning']);
    expect(alerts.every((a) => a.delivered)).toBe(true);
    expect(await textOf(overview('spend-today'))()).toMatch(/^\$0\.00(1[89]|2\d)$/);
  }, 30_000);

  it("raising the day budget with its form: set in the console, answered again; the environment's button puts it back", async () => {
    await openTab('budgets');
    await expect.poll(textOf(byTestId('limit-day-source')), POLL).toBe('From the environment: AI_BUDGET_USD_PER_DAY.');
    expect(await byTestId('limit-day-environment').isDisabled()).toBe(true);
    await byTestId('limit-day-input').fill('1');
    await byTestId('limit-day-set').click();
    await expect.poll(textOf(byTestId('limit-day')), POLL).toBe('$1.00');
    expect(await textOf(byTestId('status'))()).toBe('The per-day budget is now $1.00 (was $0.0010): every process applies it within 5 s.');
    expect(await textOf(byTestId('limit-day-source'))()).toMatch(/^Set in the console .+; AI_BUDGET_USD_PER_DAY is \$0\.0010\.$/);
    await expect.poll(textOf(byTestId('budget-overall-day-state', '#view-budgets')), POLL).toBe('ok');
    await shot('budget-raised');
    aiMode = 'echo';
    await web.post('budget-5', 'and now?');
    const [reply] = assistantReplies(await web.waitFor('budget-5', (e) => assistantReplies(e).length === 1));
    expect(reply).toMatchObject({ kind: 'answer', text: 'echo: and now?' });

    await byTestId('limit-day-environment').click();
    await expect.poll(textOf(byTestId('limit-day')), POLL).toBe('$0.0010');
    expect(await textOf(byTestId('limit-day-source'))()).toBe('From the environment: AI_BUDGET_USD_PER_DAY.');
    await expect.poll(textOf(byTestId('budget-overall-day-state', '#view-budgets')), POLL).toBe('exceeded');
  });

  it('shows the first 50 conversations, says more match, and "Show more" shows the next ones', async () => {
    const log = web.bot.conversationLog;
    for (let n = 0; n < 60; n++) {
      const timestamp = new Date(Date.now() - n * 1000).toISOString();
      await log.record({ conversationId: `many-${n}`, timestamp, platform: 'web', user: `many-${n}`, input: `question ${n}`, output: `answer ${n}`, model: 'gpt-4o-mini', inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 10 });
    }
    const total = (await log.search!({ limit: 500 })).length;
    expect(total).toBeGreaterThan(60);
    expect(total).toBeLessThanOrEqual(100);

    await openTab('conversations');
    await byTestId('filter-platform').selectOption('');
    await byTestId('filter-sort').selectOption('recent');
    const rows = page.locator('#conversation-rows [data-testid="conversation"]');
    // Polled: a search of the earlier sort may still be on screen until the new one answers.
    await expect.poll(() => rows.first().getAttribute('data-id'), POLL).toBe('many-0');
    await expect.poll(() => rows.count(), POLL).toBe(50);
    expect(await byTestId('show-more').isVisible(), '"Show more" under the table').toBe(true);
    expect(await textOf(byTestId('conversations-count'))()).toBe('The first 50 conversations shown; more match.');
    await shot('conversations-more');

    await byTestId('show-more').click();
    await expect.poll(() => rows.count(), POLL).toBe(total);
    expect(await rows.nth(50).getAttribute('data-id')).toBeTruthy();
    expect(await textOf(byTestId('conversations-count'))()).toBe(`${total} conversations.`);
    expect(await byTestId('show-more').isVisible()).toBe(false);

    // a new search starts again at 50
    await byTestId('filter-sort').selectOption('wait');
    await expect.poll(() => rows.count(), POLL).toBe(50);
    expect(await byTestId('show-more').isVisible()).toBe(true);
  });

  it('lists the oldest 100 of many dead letters, counts them all, and "Show more" lists the next ones', async () => {
    await web.bot.queue.purge(); // those earlier tests left
    const start = Date.now() - 3_600_000;
    for (let n = 0; n < 250; n++) {
      const id = `many-dead-${String(n).padStart(3, '0')}`;
      const receivedAt = new Date(start + n * 1000).toISOString();
      const message = { id, platform: 'web', conversation: { platform: 'web', id: `many-dead-${n}` }, user: { id: `many-dead-${n}` }, text: `question ${n}`, receivedAt };
      await web.bot.queue.addDeadLetter({ id, group: `web:many-dead-${n}`, data: { type: 'message', message } as never, error: 'AiError: AI provider answered 500', reason: 'attempts_exhausted', attempts: 2, failedAt: receivedAt });
    }
    await openTab('dead-letters');
    await byTestId('dead-refresh').click();
    const rows = page.locator('#dead-letter-rows [data-testid="dead-letter"]');
    await expect.poll(() => rows.count(), POLL).toBe(100);
    expect(await rows.first().getAttribute('data-id')).toBe('many-dead-000');
    expect(await textOf(byTestId('dead-letter-count'))()).toBe('(250)');
    expect(await textOf(byTestId('dead-letters-shown'))()).toBe('The oldest 100 of 250 dead letters shown.');
    await shot('dead-letters-more');

    await byTestId('dead-show-more').click();
    await expect.poll(() => rows.count(), POLL).toBe(200);
    await byTestId('dead-show-more').click();
    await expect.poll(() => rows.count(), POLL).toBe(250);
    expect(await byTestId('dead-letters-shown').isVisible()).toBe(false);

    // the purge dialog counts every letter, not the rows listed
    await byTestId('dead-refresh').click();
    await byTestId('purge').click();
    const dialog = byTestId('purge-dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.textContent()).toContain('all 250 dead letters');
    await byTestId('purge-confirm').click();
    await expect.poll(textOf(byTestId('status')), POLL).toBe('Purged 250 dead letters.');
    await expect.poll(() => rows.count(), POLL).toBe(0);
    expect(await byTestId('dead-letters-shown').isVisible()).toBe(false);
  }, 30_000);

  it('shows direction controls in what people wrote as code points, so text reads as it was sent', async () => {
    // U+202E reverses what follows: shown raw, "0001$ " would read "$1000" to the operator
    const input = 'Please refund invoice \u202E0001$ \u202Cthanks';
    await web.bot.conversationLog.record({ conversationId: 'bidi-1', timestamp: new Date().toISOString(), platform: 'web', user: 'bidi-user', input, output: 'ok', model: 'gpt-4o-mini', inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 10 });
    await openTab('conversations');
    await byTestId('filter-text').fill('refund invoice');
    const rows = page.locator('#conversation-rows [data-testid="conversation"]');
    await expect.poll(() => rows.count(), POLL).toBe(1);
    expect(await rows.first().textContent()).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
    await rows.first().click();
    const shown = byTestId('exchange-input', '[data-testid="transcript"]');
    await expect.poll(() => shown.textContent(), POLL).toBe('Please refund invoice ⟨U+202E⟩0001$ ⟨U+202C⟩thanks');
    await byTestId('transcript-close').click();
    await byTestId('filter-text').fill('');
  });

  it("finds one customer's message by a part of its conversation's id (a WhatsApp number) or its request id, and shows that id in the transcript", async () => {
    const entry = { timestamp: new Date().toISOString(), platform: 'whatsapp', input: 'where is my parcel?', output: 'ok', model: 'gpt-4o-mini', inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 10 };
    await web.bot.conversationLog.record({ ...entry, conversationId: 'whatsapp:+14155238886:whatsapp:+15557654321', user: '15557654321', requestId: 'req-support-1' });
    await web.bot.conversationLog.record({ ...entry, conversationId: 'whatsapp:+14155238886:whatsapp:+15550000000', user: '15550000000', requestId: 'req-support-2' });
    await openTab('conversations');
    const rows = page.locator('#conversation-rows [data-testid="conversation"]');
    await byTestId('filter-conversation').fill('+15557654321');
    await expect.poll(async () => [await rows.count(), await rows.first().getAttribute('data-id')], POLL).toEqual([1, 'whatsapp:+14155238886:whatsapp:+15557654321']);
    await byTestId('filter-conversation').fill('req-support-2');
    await expect.poll(async () => [await rows.count(), await rows.first().getAttribute('data-id')], POLL).toEqual([1, 'whatsapp:+14155238886:whatsapp:+15550000000']);
    await rows.first().click();
    await expect.poll(() => byTestId('exchange-request', '[data-testid="transcript"]').textContent(), POLL).toBe('request req-support-2');
    await byTestId('transcript-close').click();
    await byTestId('filter-conversation').fill('');
  });

  it('says a transcript longer than it shows (500 exchanges) shows only the newest, where the list counts them all', async () => {
    const start = Date.now() - 600_000;
    for (let i = 0; i < 501; i++) {
      await web.bot.conversationLog.record({ conversationId: 'long-1', timestamp: new Date(start + i * 1000).toISOString(), platform: 'web', user: 'long-user', input: `q ${i}`, output: 'ok', model: 'gpt-4o-mini', inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 10 });
    }
    await openTab('conversations');
    await byTestId('filter-user').fill('long-user');
    const rows = page.locator('#conversation-rows [data-testid="conversation"]');
    // the search answers after the filter is typed: wait for its one row, counting every exchange
    await expect.poll(async () => [await rows.count(), await byTestId('conversation-exchanges', '#conversation-rows').first().textContent()], POLL).toEqual([1, '501']);
    await rows.first().click();
    await expect.poll(() => page.locator('#transcript-id').textContent(), POLL).toBe('long-1 · the newest 500 exchanges; older ones are not shown');
    await byTestId('transcript-close').click();
    await byTestId('filter-user').fill('');
  });

  it('is usable 420 px wide: no horizontal page overflow on any page', async () => {
    await page.setViewportSize({ width: 420, height: 900 });
    for (const tab of ['overview', 'conversations', 'dead-letters', 'budgets']) {
      await openTab(tab);
      await noOverflow();
    }
    await openTab('conversations');
    await page.locator('#conversation-rows [data-testid="conversation"]').first().click();
    await byTestId('transcript').waitFor({ state: 'visible' });
    await noOverflow();
    await openTab('overview');
    await noOverflow();
    await shot('overview-420');

    const signedOut = watch(await (await browser.newContext({ viewport: { width: 420, height: 900 } })).newPage());
    await signedOut.goto(`${web.url}/console`);
    await signedOut.locator('[data-testid="token"]').waitFor();
    expect(await signedOut.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);
    await signedOut.context().close();
  });

  it('a page whose session is gone goes to the sign-in page on its next API call; Sign out signs out', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await openTab('dead-letters');
    provoking401 = true;
    await context.clearCookies();
    await byTestId('dead-refresh').click();
    await byTestId('token').waitFor();
    provoking401 = false;
    expect(new URL(page.url()).pathname).toBe('/console');
    expect(refusals.filter((path) => path.startsWith('/console/api/')).length).toBeGreaterThan(0);

    await byTestId('token').fill(ADMIN_TOKEN);
    await byTestId('signin').click();
    await page.locator('#view-overview').waitFor({ state: 'visible' });
    // the eleven of the budget step and the one answered once the budget was raised
    await expect.poll(textOf(overview('received-hour')), POLL).toBe('12');
    await byTestId('sign-out').click();
    await byTestId('token').waitFor();
    expect(new URL(page.url()).pathname).toBe('/console');
    expect(await textOf(byTestId('signin-error'))()).toBe('');
  });

  it('logged no console errors and no page errors on any page', () => {
    expect(problems).toEqual([]);
    // the only 401s were the ones provoked: the wrong token, the API call after the session went
    expect(new Set(refusals)).toEqual(new Set(['/console/login', '/console/api/dead-letters']));
  });
});
