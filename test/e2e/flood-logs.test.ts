/**
 * Under a flood the log says what happened without a line per request: a run of bad signatures
 * (a bot attack, a rotated secret) and a run of messages over a rate limit each write one warning or
 * info line (each request keeps its own request line), while the
 * metrics count every one (README "Operations": summarised warnings). In memory and on Redis, whose
 * ack refuses in its one script.
 */
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LogSummary, MAX_VARIANTS } from '../../src/observe/log-summary.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { deleteKeys } from '../helpers/redis-keys.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { CHANNEL_ID, appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';
import { REDIS_DOWN } from '../helpers/whatsapp-redis-down.js';

type Line = Record<string, unknown>;
const FLOOD = 30;
const prefix = `flood-logs-${process.pid}-${Date.now()}`;
const redis = new Redis({ lazyConnect: true });
let world: { slack: FakeSlack; ai: FakeOpenAi; server: SlackBot } | undefined;

afterEach(async () => {
  await world?.server.close();
  await Promise.all([world?.slack.close(), world?.ai.close()]);
  world = undefined;
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

/** `awaitReady` false: serve at once (with Redis down the bot is never ready). */
async function start(env: Record<string, string>, awaitReady = true) {
  const lines: Line[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  const slack = await startFakeSlack();
  const ai = await startFakeOpenAi();
  world = { slack, ai, server: await startSlackBot(slack, ai, { LOG_LEVEL: 'debug', ...env }, undefined, { bot: { logger }, awaitReady }) };
  return { lines, ...world };
}

async function counted(server: SlackBot, metric: 'webhooksRejected' | 'rateLimited', labels: Record<string, string>): Promise<number> {
  const { values } = await server.bot.metrics[metric].get();
  return values.find((v) => Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value))?.value ?? 0;
}

const modes: [string, Record<string, string>][] = [
  ['in memory', {}],
  ['on Redis', { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: prefix }],
];

describe.each(modes)('a flood %s', (_mode, env) => {
  it('of bad signatures: each one refused (401) and counted, one warning in the log', async () => {
    const { lines, server } = await start(env);
    const statuses = await Promise.all(Array.from({ length: FLOOD }, () => postSlack(server.url, appMention({ text: 'hi' }), { secret: 'not-the-secret' }).then((r) => r.status)));
    expect(statuses).toEqual(Array(FLOOD).fill(401));
    expect(await counted(server, 'webhooksRejected', { platform: 'slack', reason: 'bad_signature' })).toBe(FLOOD);
    expect(lines.filter((line) => line.level === 40 && line.reason === 'bad_signature')).toHaveLength(1);
    // Each request keeps its own request line at info (issue 2: one line per request).
    expect(lines.filter((line) => line.msg === 'request' && line.status === 401 && line.level === 30)).toHaveLength(FLOOD);
  });

  it('of refusals whose text the sender chooses (its content type): counted each, a few warnings, not one a request', async () => {
    const { lines, server } = await start(env);
    const statuses = await Promise.all(Array.from({ length: FLOOD }, (_, i) => postSlack(server.url, appMention({ text: 'hi' }), { contentType: `text/x-flood-${i}` }).then((r) => r.status)));
    expect(statuses).toEqual(Array(FLOOD).fill(415));
    expect(await counted(server, 'webhooksRejected', { platform: 'slack', reason: 'unsupported_media_type' })).toBe(FLOOD);
    const warned = lines.filter((line) => line.level === 40 && line.reason === 'unsupported_media_type');
    expect(warned.length).toBeGreaterThan(0);
    expect(warned.length).toBeLessThanOrEqual(MAX_VARIANTS + 1);
  });

  it('over the per-user limit: every one acknowledged and counted, one notice, one info line (each at debug)', async () => {
    const { lines, server, slack } = await start({ ...env, RATE_LIMIT_USER_PER_MINUTE: '1' });
    // One at a time, so that the first is the one taken.
    for (let i = 0; i < FLOOD; i++) expect((await postSlack(server.url, appMention({ text: `message ${i}` }))).status).toBe(200);
    expect(await counted(server, 'rateLimited', { platform: 'slack', limit: 'user' })).toBe(FLOOD - 1);
    const posts = () => slack.callsTo('chat.postMessage').map((call) => String(call.args.text));
    await until(() => posts().length >= 2, 'the answer and the notice');
    expect(posts().filter((text) => text.includes('faster than I can answer'))).toHaveLength(1);
    const refusals = lines.filter((line) => line.msg === 'message refused by the per-user rate limit');
    expect(refusals.filter((line) => line.level === 30)).toHaveLength(1);
    expect(refusals.filter((line) => line.level === 20)).toHaveLength(FLOOD - 2);
    // Each refusal names its webhook (the request line's id), its job and conversation: support finds one user's message by them.
    const requests = new Set(lines.filter((line) => line.msg === 'request').map((line) => line.requestId));
    expect(new Set(refusals.map((line) => line.requestId)).size).toBe(FLOOD - 1);
    for (const line of refusals) {
      expect(requests.has(line.requestId)).toBe(true);
      expect(line.job).toMatch(/^slack\./);
      expect(line.conversation).toContain(CHANNEL_ID);
    }
  });
});

describe('a flood while Redis is down (nothing listens at REDIS_URL)', () => {
  it('every webhook answered 503 and counted, one error line (each request keeps its request line)', async () => {
    const { lines, server } = await start({ REDIS_URL: REDIS_DOWN, RATE_LIMIT_USER_PER_MINUTE: '0', SHUTDOWN_TIMEOUT_MS: '1000' }, false);
    // Started first: a webhook waits (up to 10 s) for Redis to connect at start rather than being refused.
    await server.bot.start();
    const statuses = await Promise.all(Array.from({ length: FLOOD }, (_, i) => postSlack(server.url, appMention({ text: `message ${i}` })).then((r) => r.status)));
    expect(statuses).toEqual(Array(FLOOD).fill(503));
    expect(await counted(server, 'webhooksRejected', { platform: 'slack', reason: 'unavailable' })).toBe(FLOOD);
    const failed = lines.filter((line) => line.msg === 'request failed; answering 503 so the sender retries');
    // One kind per error text: Redis's client may say it a few ways while it reconnects.
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThanOrEqual(MAX_VARIANTS + 1);
    expect(failed.every((line) => line.level === 50 && line.platform === 'slack')).toBe(true);
    expect(lines.filter((line) => line.msg === 'request' && line.status === 503 && line.level === 30)).toHaveLength(FLOOD);
  }, 60_000);
});

describe('LogSummary', () => {
  it('writes the first line of a kind, leaves the rest of its window out, and the next line says how many', () => {
    const summary = new LogSummary(60_000);
    expect(summary.take('a', 0)).toBe(0);
    expect(summary.take('b', 1)).toBe(0);
    for (let t = 2; t < 7; t++) expect(summary.take('a', t)).toBeUndefined();
    expect(summary.take('a', 60_000)).toBe(5);
    expect(summary.take('a', 60_001)).toBeUndefined();
    expect(summary.take('b', 60_001)).toBe(0);
  });

  it('tells apart a few variants of one group a window; the others are one kind, so a sender cannot write a line a request', () => {
    const summary = new LogSummary(60_000);
    for (let i = 0; i < MAX_VARIANTS; i++) expect(summary.takeOf('g', `v${i}`, i)).toBe(0);
    expect(summary.takeOf('g', 'new 1', 10)).toBe(0);
    expect(summary.takeOf('g', 'new 2', 11)).toBeUndefined();
    expect(summary.takeOf('g', 'v0', 12)).toBeUndefined();
    // Another group is not crowded out.
    expect(summary.takeOf('h', 'new 1', 13)).toBe(0);
    // A new window tells new variants apart again.
    expect(summary.takeOf('g', 'new 3', 60_010)).toBe(0);
    expect(summary.takeOf('g', 'new 2', 60_011)).toBe(0);
  });
});
