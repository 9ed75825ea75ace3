/**
 * bot.close() for an embedder: SHUTDOWN_DELAY_MS (or `delayMs`) keeps serving, /readyz 503 from
 * the call on, before the port closes; `signal` ends that wait early; `delayMs: 0` skips it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

const still = (closing: Promise<unknown>, ms: number) => Promise.race([closing, new Promise((resolve) => setTimeout(() => resolve('still closing'), ms))]);

describe('bot.close() with a shutdown delay', () => {
  let ai: FakeOpenAi | undefined;
  let web: WebBot | undefined;
  afterEach(async () => {
    await ai?.close();
    ai = web = undefined;
  });

  it('takes SHUTDOWN_DELAY_MS: serves and answers meanwhile, /readyz 503 saying it is stopping; an aborted signal ends the delay and the drain runs', async () => {
    ai = await startFakeOpenAi(() => ({ text: 'answered during the delay' }));
    web = await startWebBot({ OPENAI_BASE_URL: ai.url, SHUTDOWN_DELAY_MS: '600000' });
    expect((await fetch(`${web.url}/readyz`)).status).toBe(200);
    const endDelay = new AbortController();
    const closing = web.bot.close({ signal: endDelay.signal });
    const ready = await fetch(`${web.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not_ready', checks: { shutdown: 'stopping: this process is shutting down' } });
    expect((await web.post('late', 'still there?')).status).toBe(202);
    await web.waitFor('late', (entries) => assistantReplies(entries).length === 1);
    expect(await still(closing, 300)).toBe('still closing');
    endDelay.abort();
    expect(await still(closing, 15_000)).toEqual({ unfinished: 0 });
    await expect(fetch(`${web.url}/healthz`)).rejects.toThrow();
  }, 30_000);

  it('a second close() during the delay joins the first instead of waiting a delay of its own: the signal given to either, or its delayMs: 0, ends it; a close() after that settles as it did', async () => {
    web = await startWebBot({ SHUTDOWN_DELAY_MS: '600000' });
    const endDelay = new AbortController();
    const first = web.bot.close({ signal: endDelay.signal });
    const second = web.bot.close();
    expect(await still(second, 300)).toBe('still closing');
    endDelay.abort();
    expect(await still(Promise.all([first, second]), 15_000)).toEqual([{ unfinished: 0 }, { unfinished: 0 }]);
    expect(await still(web.bot.close(), 1000)).toEqual({ unfinished: 0 });

    const again = await startWebBot({ SHUTDOWN_DELAY_MS: '600000' });
    const waiting = again.bot.close();
    expect(await still(again.bot.close({ delayMs: 0 }), 15_000)).toEqual({ unfinished: 0 });
    expect(await still(waiting, 1000)).toEqual({ unfinished: 0 });
    await expect(fetch(`${again.url}/healthz`)).rejects.toThrow();
  }, 40_000);

  it('delayMs: 0 closes at once whatever SHUTDOWN_DELAY_MS says; a delay that is no number of milliseconds is refused, the bot left as it was', async () => {
    web = await startWebBot({ SHUTDOWN_DELAY_MS: '600000' });
    await expect(web.bot.close({ delayMs: Number.NaN })).rejects.toThrow(RangeError);
    expect((await fetch(`${web.url}/readyz`)).status).toBe(200); // refused before anything changed
    expect(await still(web.bot.close({ delayMs: 0 }), 15_000)).toEqual({ unfinished: 0 });
    await expect(fetch(`${web.url}/healthz`)).rejects.toThrow();
  }, 30_000);
});
