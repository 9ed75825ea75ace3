/**
 * Slack for many workspaces (OAuth on): a signed command or interaction that names no workspace
 * Bolt could look an installation up by (no team.id, no user.team_id; an org-wide install without
 * its enterprise id) can never succeed. It is a payload that does not fit: 400 invalid_payload,
 * as for any other misfit, not Bolt's authorize failing as a "listener" (400 listener_failed,
 * logged at error with a stack). With one workspace (SLACK_BOT_TOKEN) no lookup is needed: the
 * same payload is taken.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import type { Bot } from '../../src/index.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startInProcessBot, type FetchLike } from '../helpers/in-process.js';
import { blockActions, globalShortcut, interactionForm, postSlack, slashCommand, viewSubmission } from '../helpers/slack-events.js';
import { testEnv } from '../helpers/web-bot.js';

const URL_ = 'http://127.0.0.1/slack/events';

/** The payload with every field naming its workspace taken away. */
function noWorkspace(payload: Record<string, unknown>): Record<string, unknown> {
  const { team_id: _userTeam, ...user } = payload.user as Record<string, unknown>;
  const view = payload.view as Record<string, unknown> | undefined;
  const { app_installed_team_id: _installed, ...bareView } = view ?? {};
  return { ...payload, team: null, enterprise: null, user, ...(view ? { view: bareView } : {}) };
}

async function startBot(slack: FakeSlack, variables: Record<string, string>): Promise<{ bot: Bot; send: FetchLike }> {
  const env = { ...testEnv, SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url, ...variables };
  const adapter = slackAdapter(slackConfigFromEnv(env)!);
  adapter.app.action(/.*/, async ({ ack }) => ack());
  adapter.app.view(/.*/, async ({ ack }) => ack());
  adapter.app.shortcut(/.*/, async ({ ack }) => ack());
  adapter.app.command(/.*/, async ({ ack }) => ack());
  return startInProcessBot(env, adapter);
}

describe('a Slack command or interaction naming no workspace', () => {
  let slack: FakeSlack;
  let oauth: { bot: Bot; send: FetchLike };
  let single: { bot: Bot; send: FetchLike };
  beforeAll(async () => {
    slack = await startFakeSlack();
    oauth = await startBot(slack, {
      SLACK_CLIENT_ID: '1111.2222',
      SLACK_CLIENT_SECRET: 'fake-client-secret-0123456789',
      SLACK_STATE_SECRET: 'state-secret-for-tests-0123456789',
      SLACK_INSTALLATION_KEY: randomBytes(32).toString('base64'),
    });
    single = await startBot(slack, { SLACK_BOT_TOKEN: 'xoxb-test-token' });
  });
  afterAll(async () => {
    await oauth?.bot.close();
    await single?.bot.close();
    await slack?.close();
  });

  it('many workspaces: 400 invalid_payload for a click, a submission or a shortcut without a team, and an org-wide one without its enterprise', async () => {
    const payloads = [
      noWorkspace(blockActions()),
      noWorkspace(viewSubmission()),
      noWorkspace(globalShortcut()),
      { ...noWorkspace(blockActions()), is_enterprise_install: true, user: { id: 'U0ALICE', team_id: 'T0PARLEY' } },
    ];
    for (const payload of payloads) {
      const res = await postSlack(URL_, interactionForm(payload), { fetch: oauth.send });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_payload' } });
    }
    const command = new URLSearchParams(slashCommand({ command: '/ask', text: 'hi' }));
    command.set('is_enterprise_install', 'true');
    command.delete('enterprise_id');
    const res = await postSlack(URL_, command.toString(), { fetch: oauth.send });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_payload' } });
  });

  it('many workspaces: a click naming its workspace only by user.team_id (an org-wide install) is not refused as a misfit', async () => {
    const click = { ...noWorkspace(blockActions()), user: { id: 'U0ALICE', team_id: 'T0PARLEY' } };
    const res = await postSlack(URL_, interactionForm(click), { fetch: oauth.send });
    expect(res.status).toBe(200); // not installed there: acknowledged, not answered
  });

  it('one workspace: the same click without a team is taken (no installation to look up)', async () => {
    const res = await postSlack(URL_, interactionForm(noWorkspace(blockActions())), { fetch: single.send });
    expect(res.status).toBe(200);
  });
});
