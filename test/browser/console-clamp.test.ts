/**
 * The console's folded long texts (clamp.js) in a real browser (Debian's chromium through
 * playwright-core), served from src/console/assets: "show all" shows under a cut text only, and the
 * boxes are all measured before any button is shown or hidden (a measure after each change lays the
 * whole table out again: seconds for a thousand long dead letters).
 */
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ORIGIN = 'http://console.test';
const ASSETS = new URL('../../src/console/assets/', import.meta.url);

/** Records, per ResizeObserver callback, each read of a box's size ("r") and each toggle shown or hidden ("w"). */
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="stylesheet" href="/console.css"></head>
<body><table><tbody id="rows"></tbody></table>
<script>
  window.steps = [];
  const Observer = window.ResizeObserver;
  window.ResizeObserver = class extends Observer {
    constructor(callback) {
      super((entries, observer) => { window.steps.push([]); callback(entries, observer); });
    }
  };
  const log = (step) => { const last = window.steps[window.steps.length - 1]; if (last) last.push(step); };
  const height = Object.getOwnPropertyDescriptor(Element.prototype, 'scrollHeight');
  Object.defineProperty(Element.prototype, 'scrollHeight', { get() { if (this.classList.contains('clamp')) log('r'); return height.get.call(this); } });
  const hidden = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'hidden');
  Object.defineProperty(HTMLElement.prototype, 'hidden', { get() { return hidden.get.call(this); }, set(value) { if (this.classList.contains('clamp-toggle')) log('w'); hidden.set.call(this, value); } });
</script>
<script type="module">
  import { clampedText } from '/clamp.js';
  const rows = [];
  for (let i = 0; i < 40; i++) {
    const text = i % 2 ? 'short' : 'a line of a long error\\n'.repeat(20);
    const cell = document.createElement('td');
    cell.append(...clampedText(text, { testid: i % 2 ? 'short' : 'long' }));
    const row = document.createElement('tr');
    row.append(cell);
    rows.push(row);
  }
  document.getElementById('rows').replaceChildren(...rows);
</script></body></html>`;

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'] });
}, 30_000);

afterAll(async () => {
  await browser?.close();
});

it('shows "show all" under the cut texts only, measuring every box before it shows or hides any button', async () => {
  const page = await browser.newPage();
  await page.route(`${ORIGIN}/**`, async (route) => {
    const name = new URL(route.request().url()).pathname.slice(1);
    if (!name) return route.fulfill({ contentType: 'text/html; charset=utf-8', body: PAGE });
    const type = name.endsWith('.css') ? 'text/css' : 'text/javascript';
    return route.fulfill({ contentType: `${type}; charset=utf-8`, body: readFileSync(new URL(name, ASSETS), 'utf8') });
  });
  await page.goto(`${ORIGIN}/`);
  await expect.poll(() => page.locator('[data-testid="long"]:visible').count(), { timeout: 10_000, interval: 50 }).toBe(20);
  expect(await page.locator('[data-testid="short"]:visible').count()).toBe(0);
  const steps = await page.evaluate<string[][]>('window.steps');
  expect(steps.length).toBeGreaterThan(0);
  // In each callback: reads, then writes; never a read after a write.
  for (const step of steps) expect(step.join(''), 'a ResizeObserver callback').toMatch(/^r*w*$/);
  await page.close();
});
