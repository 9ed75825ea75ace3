/**
 * Slack with OAuth and installations in the default memory store: a restart loses them. The bot
 * says so at start, `parley check` prints a warning (not a failure), and an event from a workspace
 * installed before the restart is logged with that cause, not only "uninstalled?". With the store
 * on Redis none of it is said. Real servers on free ports, a fake Slack and a fake AI.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { check } from '../../cli/check.js';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { installation } from '../helpers/slack-installations.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const KEY = randomBytes(32);
const TEAM = 'T0RESTART';
const RESTART_WARNING = /Slack installations \(OAuth\) are kept in memory: they will not survive a restart\. Set REDIS_URL/;

describe('Slack OAuth with installations in memory', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  const env = (extra: Record<string, string> = {}) => ({
    ...testEnv,
    OPENAI_BASE_URL: ai.url,
    OPENAI_API_KEY: 'test-key',
    WEB_CHAT: 'false',
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_API_URL: slack.url,
    SLACK_CLIENT_ID: '1111.2222',
    SLACK_CLIENT_SECRET: 'fake-client-secret-0123456789',
    SLACK_STATE_SECRET: 'state-secret-for-tests-0123456789',
    SLACK_INSTALLATION_KEY: KEY.toString('base64'),
    ...extra,
  });

  /** A `parley serve` as it is built, on a free port (a new one each time), its log lines kept. */
  async function serve(extra: Record<string, string> = {}): Promise<{ bot: Bot; lines: Record<string, unknown>[]; url: string }> {
    const lines: Record<string, unknown>[] = [];
    const all = env(extra);
    const bot = createBot({
      config: loadConfig(all),
      adapters: [slackAdapter(slackConfigFromEnv(all)!)],
      logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }),
    });
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    return { bot, lines, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events` };
  }
  const warnings = (lines: Record<string, unknown>[], pattern: RegExp) => lines.filter((l) => l.level === 40 && pattern.test(String(l.msg)));

  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
  });
  afterAll(async () => {
    await slack?.close();
    await ai?.close();
  });

  it('warns once at start, and an event after a restart names the memory store as the cause', async () => {
    const first = await serve();
    try {
      const startWarnings = warnings(first.lines, RESTART_WARNING);
      expect(startWarnings).toHaveLength(1);
      expect(startWarnings[0]).toMatchObject({ platform: 'slack' });
      await new ParleyInstallationStore({ store: first.bot.store, keys: [KEY] }).storeInstallation(installation(TEAM));
      expect((await postSlack(first.url, appMention({ team: TEAM, channel: 'C0BEFORE', text: 'before the restart', botUserId: 'U0BOT' }))).status).toBe(200);
      await until(() => slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0BEFORE'), 'the answer before the restart');
    } finally {
      await first.bot.close();
    }

    const second = await serve();
    try {
      expect((await postSlack(second.url, appMention({ team: TEAM, channel: 'C0AFTER', text: 'after the restart', botUserId: 'U0BOT' }))).status).toBe(200);
      const [line] = await until(() => {
        const found = warnings(second.lines, /not installed/);
        return found.length > 0 ? found : undefined;
      }, 'the not-installed line');
      expect(line).toMatchObject({ teamId: TEAM });
      expect(String(line!.msg)).toMatch(/installed before a restart: installations are kept in memory, set REDIS_URL/);
    } finally {
      await second.bot.close();
    }
  });

  it('parley check prints a warning line for it and still exits 0', async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
    try {
      expect(await check(loadConfig(env()))).toBe(0);
    } finally {
      log.mockRestore();
    }
    expect(printed).toContainEqual(expect.stringMatching(/^warn {2}store: /));
    expect(printed.find((line) => line.startsWith('warn  store: '))).toMatch(RESTART_WARNING);
  });

  it('says none of it with the store on Redis', async () => {
    const redis = { REDIS_URL, REDIS_PREFIX: prefix };
    const server = await serve(redis);
    try {
      expect(warnings(server.lines, /will not survive a restart/)).toHaveLength(0);
      expect((await postSlack(server.url, appMention({ team: 'T0NEVER', channel: 'C0NEVER', text: 'hello', botUserId: 'U0BOT' }))).status).toBe(200);
      const [line] = await until(() => {
        const found = warnings(server.lines, /not installed/);
        return found.length > 0 ? found : undefined;
      }, 'the not-installed line');
      expect(String(line!.msg)).toMatch(/\(uninstalled\?\)/);
    } finally {
      await server.bot.close();
    }
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
    try {
      expect(await check(loadConfig(env(redis)))).toBe(0);
    } finally {
      log.mockRestore();
    }
    expect(printed.filter((line) => /survive a restart/.test(line))).toEqual([]);
  });
});
