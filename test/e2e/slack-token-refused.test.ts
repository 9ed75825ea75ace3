/**
 * Slack refusing a rotating bot token before its stored expiry (token_expired, invalid_auth: a
 * token revoked early, a clock that disagrees): the token is refreshed at once, one refresh however
 * many replies meet the refusal, and each call is made once more with the new token. Real Redis, a
 * fake Slack (refusing the old token) and a fake AI on free ports.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { WebClient } from '@slack/web-api';
import pino from 'pino';
import { webClientOptions } from '../../adapters/slack/adapter.js';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { WorkspaceTokens } from '../../adapters/slack/workspace-tokens.js';
import { oauthBotOnRedis } from '../helpers/oauth-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { installation } from '../helpers/slack-installations.js';
import { until } from '../helpers/until.js';

const KEY = randomBytes(32);
const quiet = (ms = 500) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a rotating token Slack refuses before its expiry', () => {
  const warnings: Array<{ msg: string }> = [];
  const world = oauthBotOnRedis({ key: KEY, logger: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as { msg: string }) }) });
  const url = () => `${world.base}/slack/events`;

  const postsIn = (channel: string) => world.slack.callsTo('chat.postMessage').filter((call) => call.args.channel === channel);
  const deadLetters = async () => (await (await fetch(`${world.base}/metrics`)).text()).split('\n').filter((line) => line.startsWith('parley_dead_lettered_total{'));
  /** Slack refuses `token` with `error` on every call but auth.test and oauth.v2.access. */
  function refuse(token: string, error: string): void {
    for (const method of ['chat.postMessage', 'assistant.threads.setStatus', 'chat.startStream', 'chat.appendStream', 'chat.stopStream']) {
      world.slack.on(method, (call) => (call.token === token ? { body: { ok: false, error } } : undefined));
    }
  }
  /** A workspace whose stored token (`xoxb-<team>-secret-token`) expires in 2030, with a refresh token. */
  const install = (team: string) => world.installations.storeInstallation(installation(team));

  afterEach(() => world.slack.reset());

  it('token_expired: refreshed once for two replies meeting it at once, each posted once with the new token, no dead letter', async () => {
    await install('T0EXPIRED');
    refuse('xoxb-T0EXPIRED-secret-token', 'token_expired');
    const mentions = ['C0ONE', 'C0TWO'].map((channel) => appMention({ team: 'T0EXPIRED', channel, text: 'hello', botUserId: 'U0BOT' }));
    expect((await Promise.all(mentions.map((m) => postSlack(url(), m)))).map((r) => r.status)).toEqual([200, 200]);
    const fresh = await until(async () => {
      const stored = await world.installations.fetchInstallation({ teamId: 'T0EXPIRED', enterpriseId: undefined, isEnterpriseInstall: false });
      return stored.bot!.token !== 'xoxb-T0EXPIRED-secret-token' ? stored : undefined;
    }, 'the refreshed token in the store');
    const delivered = (channel: string) => postsIn(channel).filter((call) => call.token === fresh.bot!.token);
    await until(() => delivered('C0ONE').length + delivered('C0TWO').length === 2 || undefined, 'both replies');
    await quiet();
    expect(delivered('C0ONE')).toHaveLength(1);
    expect(delivered('C0TWO')).toHaveLength(1);
    expect(world.slack.callsTo('oauth.v2.access').map((call) => call.args)).toEqual([expect.objectContaining({ grant_type: 'refresh_token', refresh_token: 'xoxe-1-T0EXPIRED-refresh' })]);
    expect(fresh.bot!.refreshToken).not.toBe('xoxe-1-T0EXPIRED-refresh');
    expect(await deadLetters()).toEqual([]);
  });

  it('invalid_auth: refreshed and posted with the new token instead of dead-lettered', async () => {
    await install('T0INVALID');
    refuse('xoxb-T0INVALID-secret-token', 'invalid_auth');
    expect((await postSlack(url(), appMention({ team: 'T0INVALID', channel: 'C0INVALID', text: 'hello', botUserId: 'U0BOT' }))).status).toBe(200);
    await until(() => postsIn('C0INVALID').some((call) => call.token !== 'xoxb-T0INVALID-secret-token') || undefined, 'the reply');
    await quiet();
    expect(postsIn('C0INVALID').filter((call) => call.token !== 'xoxb-T0INVALID-secret-token')).toHaveLength(1);
    expect(world.slack.callsTo('oauth.v2.access')).toHaveLength(1);
    expect(await deadLetters()).toEqual([]);
  });

  it('two processes renewing the same refused token at once: one refresh, one new token', async () => {
    await install('T0SHARED');
    world.slack.on('oauth.v2.access', () => ({ delayMs: 150 }));
    const processes = [1, 2].map(
      () =>
        new WorkspaceTokens({
          installations: new ParleyInstallationStore({ store: world.bot.store, keys: [KEY] }),
          client: new WebClient(undefined, webClientOptions(world.slack.url)),
          clientId: '1111.2222',
          clientSecret: 'fake-client-secret-0123456789',
          store: () => world.bot.store,
          logger: () => pino({ level: 'silent' }),
        }),
    );
    const details = { team: 'T0SHARED', channel: 'C0SHARED', user: 'U0ALICE' };
    const tokens = await Promise.all(processes.flatMap((p) => [p.renew(details, 'xoxb-T0SHARED-secret-token'), p.renew(details, 'xoxb-T0SHARED-secret-token')]));
    expect(world.slack.callsTo('oauth.v2.access')).toHaveLength(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
  });

  it('invalid_auth when the refresh fails too: dead-lettered as before', async () => {
    await install('T0REVOKED');
    refuse('xoxb-T0REVOKED-secret-token', 'invalid_auth');
    world.slack.on('oauth.v2.access', () => ({ body: { ok: false, error: 'invalid_refresh_token' } }));
    expect((await postSlack(url(), appMention({ team: 'T0REVOKED', channel: 'C0REVOKED', text: 'hello', botUserId: 'U0BOT' }))).status).toBe(200);
    const lines = await until(async () => ((await deadLetters()).some((line) => line.includes('reason="slack_invalid_auth"')) ? deadLetters() : undefined), 'the dead letter');
    expect(lines).toEqual([expect.stringMatching(/reason="slack_invalid_auth"\} 1$/)]);
    expect(world.slack.callsTo('oauth.v2.access').length).toBeGreaterThanOrEqual(1);
    // The refused token is not offered as "the current one while it lasts".
    const refreshWarnings = warnings.map((w) => w.msg).filter((msg) => msg.includes('refresh'));
    expect(refreshWarnings).toContain('Slack refused a bot token and it could not be refreshed; the call fails (a later use tries again)');
    expect(refreshWarnings.filter((msg) => msg.includes('while it lasts'))).toEqual([]);
  });
});
