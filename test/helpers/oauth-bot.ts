/**
 * The fixture of the Slack multi-workspace e2e tests: a fake Slack, a fake AI and one bot server
 * for a Slack app installed in many workspaces (OAuth on, installations sealed with a key on the
 * shared Redis under a prefix of the file's own); and a reader of its dead letters in /metrics.
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';
import { oauthBotEnv } from './slack-installations.js';

export interface OauthBot {
  /** The file's Redis key prefix. */
  prefix: string;
  slack: FakeSlack;
  ai: FakeOpenAi;
  bot: Bot;
  /** The server's base URL (`/slack/events`, `/metrics`). */
  base: string;
  /** The bot's installations, sealed with `key`. */
  installations: ParleyInstallationStore;
}

/**
 * Call once in a describe block: the bot (oauthBotEnv's settings, `env` on top; `logger` its
 * logger) is started before the block's tests and closed, with the fakes, after them. Its fields
 * are filled in once the tests run.
 */
export function oauthBotOnRedis(options: { key: Buffer; env?: Record<string, string>; logger?: Logger }): OauthBot {
  const world: Partial<OauthBot> = { prefix: uniquePrefix() };
  useRedis(world.prefix!);
  beforeAll(async () => {
    const slack = (world.slack = await startFakeSlack());
    const ai = (world.ai = await startFakeOpenAi());
    const env = { ...oauthBotEnv({ slack: slack.url, ai: ai.url }, { url: REDIS_URL, prefix: world.prefix! }, [options.key]), ...options.env };
    const bot = (world.bot = createBot({ config: loadConfig(env), adapters: [slackAdapter(slackConfigFromEnv(env)!)], ...(options.logger ? { logger: options.logger } : {}) }));
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    world.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    world.installations = new ParleyInstallationStore({ store: bot.store, keys: [options.key] });
  });
  afterAll(async () => {
    await world.bot?.close();
    await world.slack?.close();
    await world.ai?.close();
  });
  return world as OauthBot;
}

/** parley_dead_lettered_total{platform="slack",reason} as the server at `base` shows it in /metrics (0 before its first). */
export async function deadLettered(base: string, reason: string): Promise<number> {
  const line = (await (await fetch(`${base}/metrics`)).text()).split('\n').find((l) => l.startsWith(`parley_dead_lettered_total{platform="slack",reason="${reason}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}
