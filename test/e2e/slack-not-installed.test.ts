/**
 * Slack for many workspaces (OAuth on), interactions end to end: a real bot server on Redis, the
 * fake Slack Web API and the fake AI over HTTP. A click or a modal submission from a workspace
 * with no installation (uninstalled) is acknowledged like an event from it: 200, no answer, logged
 * once. Installed workspaces keep Bolt's rules: the developer's listener acknowledges.
 */
import { randomBytes } from 'node:crypto';
import type { Installation } from '@slack/oauth';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { BOT_USER_ID, blockActions, interactionForm, postSlack, viewSubmission } from '../helpers/slack-events.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { oauthVariables } from '../helpers/slack-installations.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const KEY = randomBytes(32);
const INSTALLED = 'T0HERE';
const GONE = 'T0GONE';
const quiet = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

function workspaceInstall(team: string, token: string): Installation<'v2', false> {
  return {
    team: { id: team, name: `Team ${team}` },
    enterprise: undefined,
    user: { id: 'U0INSTALLER', token: undefined, scopes: undefined },
    bot: { token, id: `B${team}`, userId: BOT_USER_ID, scopes: ['chat:write'] },
    appId: 'A0PARLEY',
    tokenType: 'bot',
    isEnterpriseInstall: false,
    authVersion: 'v2',
  };
}

/** An interaction payload as Slack sends it from `team`'s workspace. */
function fromTeam(payload: Record<string, unknown>, team: string): Record<string, unknown> {
  const view = payload.view as Record<string, unknown> | undefined;
  return {
    ...payload,
    team: { id: team, domain: team.toLowerCase() },
    user: { ...(payload.user as object), team_id: team },
    ...(view ? { view: { ...view, team_id: team, app_installed_team_id: team } } : {}),
  };
}

/** A click on parley's 👍/👎 (action_id parley_feedback) under an answer in `team`'s channel. */
function feedbackClick(team: string, value: string): Record<string, unknown> {
  const click = fromTeam(blockActions({ channel: `C${team}` }), team);
  const [exchange] = value.split(':').slice(1);
  click.actions = [{ type: 'feedback_buttons', action_id: 'parley_feedback', block_id: `parley_feedback:${exchange}:${team}:C${team}:`, value, action_ts: '1700000000.000100' }];
  return click;
}

describe('Slack interactions from a workspace with no installation (OAuth on, Redis)', () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  const raw: string[] = [];
  const lines = () => raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  /** What the developer's own listeners saw. */
  const seenByDeveloper: string[] = [];

  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    const logger = pino({ level: 'debug' }, { write: (line: string) => void raw.push(line) });
    server = await startSlackBot(
      slack,
      ai,
      oauthVariables({ url: REDIS_URL, prefix }, [KEY]),
      (app) => {
        app.action('approve', async ({ ack, body }) => {
          seenByDeveloper.push(`approve from ${String((body as { team?: { id?: string } }).team?.id)}`);
          await ack();
        });
        app.view('ticket_form', async ({ ack }) => ack({ response_action: 'errors', errors: { title: 'Say more' } }));
      },
      { bot: { logger } },
    );
    await new ParleyInstallationStore({ store: server.bot.store, keys: [KEY] }).storeInstallation(workspaceInstall(INSTALLED, 'xoxb-here-token'));
  });
  afterAll(async () => {
    await server?.close();
    await slack?.close();
    await ai?.close();
  });
  afterEach(() => slack.reset());

  it('a feedback click, a reason submission and an action of the developer get 200 and no answer, logged once', async () => {
    const metadata = JSON.stringify({ conversation: `${GONE}:C${GONE}:`, exchange: 'slack.Ev0GONE' });
    const submission = viewSubmission({ callbackId: 'parley_feedback_reason' });
    const requests = [
      feedbackClick(GONE, 'bad:slack.Ev0GONE'),
      fromTeam({ ...submission, view: { ...(submission.view as object), private_metadata: metadata, state: { values: { reason: { reason: { type: 'plain_text_input', value: 'wrong' } } } } } }, GONE),
      fromTeam(blockActions({ actionId: 'approve', channel: `C${GONE}` }), GONE),
    ];
    for (const payload of requests) {
      const res = await postSlack(server.url, interactionForm(payload));
      expect({ status: res.status, body: await res.text() }).toEqual({ status: 200, body: '' });
    }
    await quiet();
    expect(slack.calls).toHaveLength(0); // no modal, no message: nothing to answer with
    expect(seenByDeveloper).toEqual([]); // no listener runs for it, as for an event from there
    const notInstalled = lines().filter((l) => l.teamId === GONE && /not installed/.test(String(l.msg)));
    expect(notInstalled.map((l) => l.level)).toEqual([40, 20, 20]);
    expect(raw.filter((line) => /acknowledged this/.test(line))).toEqual([]);
  });

  it('from an installed workspace the developer still acknowledges, and what no listener takes is still refused', async () => {
    const ticket = fromTeam(viewSubmission({ callbackId: 'ticket_form' }), INSTALLED);
    const res = await postSlack(server.url, interactionForm(ticket));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ response_action: 'errors', errors: { title: 'Say more' } });
    const approve = await postSlack(server.url, interactionForm(fromTeam(blockActions({ actionId: 'approve', channel: `C${INSTALLED}` }), INSTALLED)));
    expect(approve.status).toBe(200);
    expect(seenByDeveloper).toEqual([`approve from ${INSTALLED}`]);
    const nobody = await postSlack(server.url, interactionForm(fromTeam(blockActions({ actionId: 'nobody_listens', channel: `C${INSTALLED}` }), INSTALLED)));
    expect(nobody.status).toBe(404);
  });
});
