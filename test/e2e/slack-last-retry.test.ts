/**
 * Slack retries an Events API delivery three times (x-slack-retry-num 1..3); one refused on the
 * third is never sent again: its message is lost. The refusal's warning and the 503 failure's error
 * are summarised (a minute's first, then leftOut), so the loss must have its own error line naming
 * the event (never its text), as Socket Mode's does; retry 1 stays summarised (README "Operations").
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack } from '../fakes/slack-api.js';
import { startSlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { REDIS_DOWN } from '../helpers/whatsapp-redis-down.js';

type Line = Record<string, unknown>;
const LOST = "webhook not taken on the platform's last delivery; it is lost (it will not be sent again)";
const closing: (() => Promise<unknown>)[] = [];
const releases: (() => void)[] = [];
afterEach(async () => {
  for (const release of releases.splice(0)) release();
  for (const close of closing.splice(0).reverse()) await close();
});

async function start(env: Record<string, string>, ai: FakeOpenAi, awaitReady = true) {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  const slack = await startFakeSlack();
  closing.push(() => slack.close());
  const server = await startSlackBot(slack, ai, { LOG_LEVEL: 'info', ...env }, undefined, { bot: { logger }, awaitReady });
  closing.push(() => server.close());
  return { lines, server };
}

/** A fake AI that answers nothing until the test ends: the first message holds the queue's one place. */
async function heldAi(): Promise<FakeOpenAi> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const ai = await startFakeOpenAi(() => ({ text: 'answer', hold: held }));
  releases.push(release);
  closing.push(() => ai.close());
  return ai;
}

describe("a Slack delivery refused on Slack's last retry (x-slack-retry-num: 3)", () => {
  it('the queue full (QUEUE_MAX_MESSAGES=1): its own error line naming the event, though the queue_full warning is summarised; retry 1 is only summarised', async () => {
    const { lines, server } = await start({ QUEUE_MAX_MESSAGES: '1' }, await heldAi());
    expect((await postSlack(server.url, appMention({ text: 'first' }))).status).toBe(200);
    // The minute's queue_full warning is written for this one…
    expect((await postSlack(server.url, appMention({ text: 'second' }))).status).toBe(503);
    // …and Slack's first retry of another is left out of the log (counted), as before.
    expect((await postSlack(server.url, appMention({ text: 'third' }), { retryNum: 1 })).status).toBe(503);
    expect(lines.filter((line) => line.msg === LOST)).toEqual([]);

    const last = appMention({ text: 'the private words of the lost one' });
    expect((await postSlack(server.url, last, { retryNum: 3 })).status).toBe(503);
    expect(lines.filter((line) => line.level === 40 && line.reason === 'queue_full')).toHaveLength(1);
    const lost = lines.filter((line) => line.msg === LOST);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ level: 50, platform: 'slack', delivery: last.event_id, status: 503 });
    expect(JSON.stringify(lost[0])).not.toContain('private words');
  });

  it('Redis down: its own error line after the summarised "request failed" line was already written', async () => {
    const ai = await startFakeOpenAi();
    closing.push(() => ai.close());
    const { lines, server } = await start({ REDIS_URL: REDIS_DOWN, RATE_LIMIT_USER_PER_MINUTE: '0', SHUTDOWN_TIMEOUT_MS: '1000' }, ai, false);
    await server.bot.start();
    const failed = () => lines.filter((line) => line.msg === 'request failed; answering 503 so the sender retries');
    expect((await postSlack(server.url, appMention({ text: 'first try' }), { retryNum: 1 })).status).toBe(503);
    expect((await postSlack(server.url, appMention({ text: 'first try' }), { retryNum: 1 })).status).toBe(503);
    const summarised = failed().length;
    expect(summarised).toBeGreaterThan(0);
    expect(lines.filter((line) => line.msg === LOST)).toEqual([]);

    const last = appMention({ text: 'lost for good' });
    expect((await postSlack(server.url, last, { retryNum: 3 })).status).toBe(503);
    expect(failed()).toHaveLength(summarised);
    const lost = lines.filter((line) => line.msg === LOST);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ level: 50, platform: 'slack', delivery: last.event_id, status: 503 });
  }, 60_000);
});
