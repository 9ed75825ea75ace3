/**
 * An org-wide install an Enterprise Grid admin starts from the org's app management page: Slack runs
 * the authorize step itself, so its redirect to /slack/oauth_redirect carries a code and no `state`
 * (why Bolt has `stateVerification: false`). With SLACK_ORG_INSTALLS_WITHOUT_STATE=on it is taken
 * when the code is an org-wide install; anything else still needs the install page's state. Off (the
 * default), it is refused, and the log line names the variable. On Redis and in memory.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { BOT_USER_ID, appMention, postSlack } from '../helpers/slack-events.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const CLIENT_ID = '1111.2222';
const CLIENT_SECRET = 'fake-client-secret-0123456789';
const STATE_SECRET = 'state-secret-for-tests-0123456789abcdef';
const KEY = randomBytes(32);

/** oauth.v2.access as Slack answers an org-wide install (`code-org`) or a workspace's (`code-workspace`). */
function answerInstalls(slack: FakeSlack, org: string, team: string): void {
  slack.on('oauth.v2.access', (call) => {
    const orgWide = call.args.code === 'code-org';
    if (!orgWide && call.args.code !== 'code-workspace') return undefined;
    return {
      body: {
        ok: true,
        access_token: orgWide ? `xoxb-${org}-org-token` : `xoxb-${team}-workspace-token`,
        token_type: 'bot',
        scope: 'app_mentions:read,chat:write',
        bot_user_id: BOT_USER_ID,
        app_id: 'A0PARLEY',
        team: orgWide ? null : { id: team, name: 'A workspace' },
        enterprise: { id: org, name: 'Grid Co' },
        is_enterprise_install: orgWide,
        authed_user: { id: 'U0ADMIN' },
      },
    };
  });
}

for (const backend of ['redis', 'memory'] as const) {
  describe(`org-wide installs without a state (${backend})`, () => {
    const prefix = uniquePrefix();
    if (backend === 'redis') useRedis(prefix);
    let slack: FakeSlack | undefined;
    let ai: FakeOpenAi | undefined;
    let server: SlackBot | undefined;
    const lines: string[] = [];
    afterEach(async () => {
      await server?.close();
      await slack?.close();
      await ai?.close();
      server = slack = ai = undefined;
    });

    async function start(extra: Record<string, string>): Promise<{ server: SlackBot; slack: FakeSlack; installations: ParleyInstallationStore }> {
      lines.length = 0;
      slack = await startFakeSlack({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      ai = await startFakeOpenAi();
      const env = {
        SLACK_BOT_TOKEN: '',
        SLACK_CLIENT_ID: CLIENT_ID,
        SLACK_CLIENT_SECRET: CLIENT_SECRET,
        SLACK_STATE_SECRET: STATE_SECRET,
        SLACK_INSTALLATION_KEY: KEY.toString('base64'),
        ...(backend === 'redis' ? { REDIS_URL, REDIS_PREFIX: prefix } : {}),
        ...extra,
      };
      server = await startSlackBot(slack, ai, env, undefined, { bot: { logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }) } });
      return { server, slack, installations: new ParleyInstallationStore({ store: server.bot.store, keys: [KEY] }) };
    }

    const redirect = async (server: SlackBot, query: string) => {
      const res = await fetch(`${server.base}/slack/oauth_redirect?${query}`, { redirect: 'manual' });
      return { status: res.status, text: await res.text() };
    };

    it('with SLACK_ORG_INSTALLS_WITHOUT_STATE=on, an org-wide install with no state is stored and answers; a workspace code with no state, or a forged state, is still refused', async () => {
      const org = `E0${randomUUID().slice(0, 8).toUpperCase()}`;
      const team = `T0${randomUUID().slice(0, 8).toUpperCase()}`;
      const { server, slack, installations } = await start({ SLACK_ORG_INSTALLS_WITHOUT_STATE: 'on' });
      answerInstalls(slack, org, team);

      const installed = await redirect(server, 'code=code-org');
      expect(installed.status).toBe(200);
      expect(installed.text).toContain('parley is installed in Grid Co.');
      // No redirect_uri in the exchange: Slack's own flow sent none.
      expect(slack.callsTo('oauth.v2.access')[0]!.args.redirect_uri).toBeUndefined();
      const stored = await installations.fetchInstallation({ teamId: undefined, enterpriseId: org, isEnterpriseInstall: true });
      expect(stored.bot!.token).toBe(`xoxb-${org}-org-token`);

      // A workspace of the org is answered through the org-wide installation.
      const mention = appMention({ team: 'T0ORGTEAM', channel: 'C0ORG', text: 'hello from the org' });
      const event = { ...mention, enterprise_id: org, authorizations: [{ enterprise_id: org, team_id: null, user_id: BOT_USER_ID, is_bot: true, is_enterprise_install: true }] };
      expect((await postSlack(server.url, event)).status).toBe(200);
      const [post] = await until(() => (slack.callsTo('chat.postMessage').length ? slack.callsTo('chat.postMessage') : undefined), 'the reply in the org workspace');
      expect(post!.token).toBe(`xoxb-${org}-org-token`);

      // A workspace install still needs the install page's state: its code is spent, nothing is stored.
      const workspace = await redirect(server, 'code=code-workspace');
      expect(workspace.status).toBe(400);
      expect(workspace.text).toContain('Invalid state');
      await expect(installations.findInstallation({ teamId: team, enterpriseId: org, isEnterpriseInstall: false })).resolves.toBeUndefined();
      // A state that is there is checked as ever (no cookie here): no exchange.
      const calls = slack.callsTo('oauth.v2.access').length;
      expect((await redirect(server, 'code=code-org&state=forged')).status).toBe(400);
      expect(slack.callsTo('oauth.v2.access')).toHaveLength(calls);
    });

    it('off (the default), an org-wide install with no state is refused, stores nothing, and the log line says what allows it', async () => {
      const org = `E0${randomUUID().slice(0, 8).toUpperCase()}`;
      const { server, slack, installations } = await start({});
      answerInstalls(slack, org, 'T0UNUSED');
      const refused = await redirect(server, 'code=code-org');
      expect(refused.status).toBe(400);
      expect(slack.callsTo('oauth.v2.access')).toHaveLength(0);
      await expect(installations.findInstallation({ teamId: undefined, enterpriseId: org, isEnterpriseInstall: true })).resolves.toBeUndefined();
      const line = lines.map((l) => JSON.parse(l) as { msg: string; reason?: string }).find((l) => l.msg === 'Slack installation refused: invalid state');
      expect(line?.reason).toMatch(/^no state parameter .*Enterprise Grid admin.*SLACK_ORG_INSTALLS_WITHOUT_STATE=on/);
    });
  });
}
