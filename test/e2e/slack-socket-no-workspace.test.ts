/**
 * Slack for many workspaces (OAuth) over Socket Mode: a click or a command that names no
 * workspace gets the same check as over HTTP (parse.ts). It does not fit: acknowledged, dropped,
 * warned and counted invalid_payload, not handed to Bolt, whose authorize cannot find an
 * installation (an error line with a stack, "a Bolt listener failed", and no acknowledgement).
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startFakeSlackSocket, type FakeSlackSocket } from '../fakes/slack-socket.js';
import { blockActions } from '../helpers/slack-events.js';
import { within } from '../helpers/slack-socket-bot.js';
import { testEnv } from '../helpers/web-bot.js';

interface Line {
  level: number;
  msg: string;
  reason?: string;
  status?: number;
}

const APP_TOKEN = 'xapp-test';

describe('Slack OAuth over Socket Mode: a command or interaction naming no workspace', () => {
  const lines: Line[] = [];
  let slack: FakeSlack;
  let socket: FakeSlackSocket;
  let ai: FakeOpenAi;
  let bot: Bot;

  beforeAll(async () => {
    slack = await startFakeSlack();
    socket = await startFakeSlackSocket();
    ai = await startFakeOpenAi();
    slack.on('apps.connections.open', () => ({ body: { ok: true, url: socket.url } }));
    const adapter = slackAdapter(
      slackConfigFromEnv({
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: slack.url,
        SLACK_CLIENT_ID: '1111.2222',
        SLACK_CLIENT_SECRET: 'fake-client-secret-0123456789',
        SLACK_STATE_SECRET: 'state-secret-for-tests-0123456789',
        SLACK_INSTALLATION_KEY: randomBytes(32).toString('base64'),
      })!,
    );
    adapter.app.action(/.*/, async ({ ack }) => ack());
    adapter.app.command(/.*/, async ({ ack }) => ack());
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    bot = createBot({ config: loadConfig({ ...testEnv, OPENAI_BASE_URL: ai.url }), adapters: [adapter], logger });
    await within(bot.ready, 8000, 'bot.ready');
  });
  afterAll(async () => {
    await bot?.close();
    await socket?.disconnected(5000).catch(() => undefined);
    await socket?.close();
    await slack?.close();
    await ai?.close();
  });

  const rejected = async () =>
    (await bot.metrics.webhooksRejected.get()).values.find((v) => v.labels.platform === 'slack' && v.labels.reason === 'invalid_payload')?.value ?? 0;

  it('is acknowledged and dropped as a payload that does not fit, as over HTTP', async () => {
    const { team_id: _team, ...user } = blockActions().user as Record<string, unknown>;
    const click = { ...blockActions(), team: null, enterprise: null, user };
    const command = { command: '/ask', text: 'hi', user_id: 'U0ALICE', channel_id: 'C0GENERAL', team_id: 'T0PARLEY', is_enterprise_install: 'true' };
    for (const [payload, type] of [[click, 'interactive'], [command, 'slash_commands']] as const) {
      const counted = await rejected();
      const ack = await socket.sendEvent(payload, { type, ackTimeoutMs: 2000 });
      expect(ack.envelope_id).toBe(socket.sent.at(-1)!.envelope_id);
      expect(await rejected()).toBe(counted + 1);
      expect(lines.at(-1)).toMatchObject({ reason: 'invalid_payload', status: 200 });
      expect(lines.at(-1)!.msg).toMatch(/names no workspace/);
    }
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  });
});
