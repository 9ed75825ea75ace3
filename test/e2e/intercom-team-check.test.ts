/**
 * INTERCOM_HANDOFF_TEAM_ID is checked against the workspace at start (GET /teams/{id}): a wrong id
 * is said at once, at error, instead of at the first handoff (after the customer was told a
 * teammate is coming). The bot starts either way. Intercom and the AI faked over HTTP.
 */
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { intercomAdapter, intercomConfigFromEnv } from '../../adapters/intercom/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeIntercom, type FakeIntercom } from '../fakes/intercom-api.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

let intercom: FakeIntercom;
let bot: Bot;
afterEach(async () => {
  await bot.close();
  await intercom.close();
});

async function start(teamId: string): Promise<{ lines: { level: number; msg: string; team?: string }[] }> {
  intercom = await startFakeIntercom({ teams: ['4242'] });
  const env = { ...testEnv, INTERCOM_ACCESS_TOKEN: 'dG9rOnBhcmxleS10ZXN0LXRva2Vu', INTERCOM_CLIENT_SECRET: 'test-intercom-client-secret', INTERCOM_API_URL: intercom.url, INTERCOM_HANDOFF_TEAM_ID: teamId };
  const lines: { level: number; msg: string; team?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  bot = createBot({ config: loadConfig(env), adapters: [intercomAdapter(intercomConfigFromEnv(env)!)], logger });
  await bot.start();
  await bot.ready;
  await until(() => intercom.calls.find((call) => call.path.startsWith('/teams/')), 'the team check');
  await new Promise((resolve) => setTimeout(resolve, 100)); // its answer, logged
  return { lines };
}

it('a team id the workspace does not have: an error line at start naming it; the bot runs on', async () => {
  const { lines } = await start('9999');
  expect(lines).toContainEqual(expect.objectContaining({ level: 50, team: '9999', msg: expect.stringContaining('INTERCOM_HANDOFF_TEAM_ID names no team') }));
  expect(intercom.callsTo('me')).toHaveLength(1);
});

it('a team of the workspace: nothing said', async () => {
  const { lines } = await start('4242');
  expect(intercom.calls.filter((call) => call.path === '/teams/4242')).toHaveLength(1);
  expect(lines.filter((line) => line.msg.includes('INTERCOM_HANDOFF_TEAM_ID'))).toEqual([]);
});
