/**
 * A reply still queued when its workspace uninstalls the app: dead-lettered before the AI is
 * asked, as `parley serve --no-worker` then `parley worker` meet it. Two bots on a real Redis (one
 * takes webhooks, the other works the queue), a fake Slack and a fake AI on free ports.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { installation, oauthBotEnv } from '../helpers/slack-installations.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const KEY = randomBytes(32);
const TEAM = 'T0BYEBYE';
const CHANNEL = 'C0BYEBYE';

describe('a reply queued before an uninstall', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  const bots: Bot[] = [];
  /** The worker's log lines. */
  const lines: Record<string, unknown>[] = [];

  /** A bot as `parley serve --no-worker` (worker: false) or `parley worker` builds it, on a free port. */
  async function start(worker: boolean): Promise<string> {
    const env = oauthBotEnv({ slack: slack.url, ai: ai.url }, { url: REDIS_URL, prefix }, [KEY]);
    const logger = worker ? pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) : undefined;
    const bot = createBot({ config: loadConfig(env), adapters: [slackAdapter(slackConfigFromEnv(env)!)], worker, ...(logger ? { logger } : {}) });
    bots.push(bot);
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
  });
  afterAll(async () => {
    for (const bot of bots) await bot.close();
    await slack?.close();
    await ai?.close();
  });

  it('is dead-lettered as slack_not_installed without an AI call, a post or an apology', async () => {
    const serve = await start(false);
    await new ParleyInstallationStore({ store: bots[0]!.store, keys: [KEY] }).storeInstallation(installation(TEAM));
    const mention = appMention({ team: TEAM, channel: CHANNEL, text: 'queued before the uninstall', botUserId: 'U0BOT' });
    expect((await postSlack(`${serve}/slack/events`, mention)).status).toBe(200);
    // A second after the install: an uninstall timed in the install's own second counts as older (install-time.ts).
    const uninstalled = { ...appMention({ team: TEAM, text: 'x', botUserId: 'U0BOT', eventTime: Math.floor(Date.now() / 1000) + 1 }) };
    uninstalled.event = { type: 'app_uninstalled', event_ts: uninstalled.event.event_ts } as unknown as typeof uninstalled.event;
    expect((await postSlack(`${serve}/slack/events`, uninstalled)).status).toBe(200);
    await expect(new ParleyInstallationStore({ store: bots[0]!.store, keys: [KEY] }).fetchInstallation({ teamId: TEAM, enterpriseId: undefined, isEnterpriseInstall: false })).rejects.toThrow(/no Slack installation/);
    slack.reset();

    const worker = await start(true);
    const metrics = await until(async () => {
      const text = await (await fetch(`${worker}/metrics`)).text();
      return /parley_dead_lettered_total\{platform="slack",reason="slack_not_installed"\} 1/.test(text) ? text : undefined;
    }, 'the dead letter');
    expect(metrics).not.toMatch(/parley_ai_calls_total\{[^}]*outcome="ok"[^}]*\} [1-9]/);
    expect(ai.calls).toHaveLength(0);
    expect(slack.calls.filter((call) => call.method !== 'auth.test')).toEqual([]);
    // The apology would meet the same refusal: not even tried.
    expect(lines.filter((line) => /apology/.test(String(line.msg)))).toEqual([]);
    expect(lines.find((line) => line.msg === 'message given up')).toMatchObject({ level: 40, attempt: 1, final: true });
  });
});
