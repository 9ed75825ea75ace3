/**
 * Many workspaces: before an event is taken, its workspace's installation is read (workspace-tokens.ts
 * admit). A store failure there refuses the delivery (503) inside the adapter's receive, before the
 * core ever takes it; on Slack's last retry (x-slack-retry-num: 3) the event is lost all the same, so
 * it must be named on its own error line as one the queue could not take is (slack-last-retry.test.ts).
 */
import type { AddressInfo } from 'node:net';
import type { Installation, InstallationQuery } from '@slack/oauth';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig } from '../../src/index.js';
import { startFakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack } from '../fakes/slack-api.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { testEnv } from '../helpers/web-bot.js';

type Line = Record<string, unknown>;
const LOST = "webhook not taken on the platform's last delivery; it is lost (it will not be sent again)";
const closing: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

/** An installation store whose reads fail, as one on an unreachable database does. */
const unreachableInstallations = {
  storeInstallation: async (_installation: Installation) => undefined,
  fetchInstallation: async (_query: InstallationQuery<boolean>): Promise<Installation<'v1' | 'v2', boolean>> => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:1 (installation store)');
  },
  deleteInstallation: async (_query: InstallationQuery<boolean>) => undefined,
};

describe("a Slack delivery whose installation cannot be read, on Slack's last retry", () => {
  it('is named at error with its event id (never its text); retry 1 is not', async () => {
    const lines: Line[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    const slack = await startFakeSlack();
    closing.push(() => slack.close());
    const ai = await startFakeOpenAi();
    closing.push(() => ai.close());
    const env = { ...testEnv, LOG_LEVEL: 'info', OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url };
    const adapter = slackAdapter({ ...slackConfigFromEnv(env)!, installations: unreachableInstallations });
    const bot = createBot({ config: loadConfig(env), adapters: [adapter], logger });
    const server = await bot.listen(0, '127.0.0.1');
    closing.push(() => bot.close());
    await bot.ready;
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;

    expect((await postSlack(url, appMention({ text: 'first try' }), { retryNum: 1 })).status).toBe(503);
    expect(lines.filter((line) => line.msg === LOST)).toEqual([]);

    const last = appMention({ text: 'the private words of the lost one' });
    expect((await postSlack(url, last, { retryNum: 3 })).status).toBe(503);
    const lost = lines.filter((line) => line.msg === LOST);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ level: 50, platform: 'slack', delivery: last.event_id, status: 503 });
    expect(JSON.stringify(lost[0])).not.toContain('private words');
  }, 30_000);
});
