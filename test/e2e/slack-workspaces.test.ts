/**
 * Slack for many workspaces (OAuth on), end to end: a real bot server, the fake Slack Web API
 * (which records the token of every call and serves oauth.v2.access) and the fake AI. The
 * installations are put in the store directly (storeInstallation), as the install flow would.
 */
import { randomBytes } from 'node:crypto';
import type { Installation } from '@slack/oauth';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { WorkspaceTokens } from '../../adapters/slack/workspace-tokens.js';
import { MemoryConversationLog, MemoryStore } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { BOT_USER_ID, appMention, blockActions, channelMessage, interactionForm, postSlack, type SlackEventEnvelope, type SlackEventPayload } from '../helpers/slack-events.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';
import { webClientOptions } from '../../adapters/slack/adapter.js';
import { WebClient } from '@slack/web-api';

const CLIENT_ID = '1111.2222';
const CLIENT_SECRET = 'fake-client-secret-0123456789';
const KEY = randomBytes(32);
const quiet = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));
const nextSecond = () => Math.floor(Date.now() / 1000) + 1;

/** A workspace installation as the OAuth flow stores it. */
function workspaceInstall(team: string, token: string, extra: { enterprise?: string; refreshToken?: string; expiresAt?: number } = {}): Installation<'v2', false> {
  return {
    team: { id: team, name: `Team ${team}` },
    enterprise: extra.enterprise ? { id: extra.enterprise } : undefined,
    user: { id: 'U0INSTALLER', token: undefined, scopes: undefined },
    bot: { token, id: `B${team}`, userId: BOT_USER_ID, scopes: ['chat:write'], ...(extra.refreshToken ? { refreshToken: extra.refreshToken, expiresAt: extra.expiresAt } : {}) },
    appId: 'A0PARLEY',
    tokenType: 'bot',
    isEnterpriseInstall: false,
    authVersion: 'v2',
  };
}

/** An org-wide (Enterprise Grid) installation: one for every workspace of the org. */
function orgInstall(enterprise: string, token: string): Installation<'v2', true> {
  return {
    team: undefined,
    enterprise: { id: enterprise, name: 'Grid Org' },
    user: { id: 'U0ADMIN', token: undefined, scopes: undefined },
    bot: { token, id: 'BORG', userId: BOT_USER_ID, scopes: ['chat:write'] },
    appId: 'A0PARLEY',
    tokenType: 'bot',
    isEnterpriseInstall: true,
    authVersion: 'v2',
  };
}

/** An event from a workspace of a Grid org where the app is installed org-wide. */
function fromOrgInstall<E extends SlackEventPayload>(envelope: SlackEventEnvelope<E>, enterprise: string): Record<string, unknown> {
  return {
    ...envelope,
    enterprise_id: enterprise,
    context_enterprise_id: enterprise,
    authorizations: [{ enterprise_id: enterprise, team_id: null, user_id: BOT_USER_ID, is_bot: true, is_enterprise_install: true }],
  };
}

/**
 * A workspace-level event (not a message) in an envelope like appMention's. An uninstall is timed a
 * second after the installation the test just stored: one in the install's own second counts as older (install-time.ts).
 */
function workspaceEvent(team: string, event: Record<string, unknown>, eventTime?: number): Record<string, unknown> {
  const envelope = appMention({ team, text: 'x', eventTime });
  return { ...envelope, event: { ...event, event_ts: envelope.event.event_ts } };
}

/**
 * A workspace with an expired rotating token, and WorkspaceTokens over an installation store whose
 * writes fail while `down()` says so (this process's store writes failing, as in a Redis blip).
 */
async function tokensWithFlakyStore(slack: FakeSlack, team: string, refreshToken: string, options: { cacheTtlMs?: number; refreshEarlyMs?: number } = {}) {
  const store = new MemoryStore();
  const installations = new ParleyInstallationStore({ store, keys: [KEY] });
  await installations.storeInstallation(workspaceInstall(team, `xoxe.xoxb-1-${team}`, { refreshToken, expiresAt: Math.floor(Date.now() / 1000) - 1 }));
  slack.reset();
  const state = { down: true };
  const flaky = Object.assign(Object.create(installations) as ParleyInstallationStore, {
    storeInstallation: (installation: Installation) => (state.down ? Promise.reject(new Error('store blip')) : installations.storeInstallation(installation)),
    replaceInstallation: (installation: Installation, spent: string | undefined) => (state.down ? Promise.reject(new Error('store blip')) : installations.replaceInstallation(installation, spent)),
  });
  const tokens = new WorkspaceTokens({ installations: flaky, client: new WebClient(undefined, webClientOptions(slack.url)), clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, store: () => store, logger: () => pino({ level: 'silent' }), ...options });
  const stored = () => installations.fetchInstallation({ teamId: team, enterpriseId: undefined, isEnterpriseInstall: false });
  return { tokens, installations, state, stored, details: { team, channel: `C${team}`, user: 'U0ALICE' } };
}

describe('Slack for many workspaces: per-workspace tokens, rotation, uninstall', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  let installations: ParleyInstallationStore;
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const consoleOutput: string[] = [];
  const conversationLog = new MemoryConversationLog();

  const postsIn = (channel: string) => slack.callsTo('chat.postMessage').filter((c) => c.args.channel === channel);
  /** The conversation's first exchange in the log, once it is there. */
  const loggedExchange = async (conversationId: string) => (await until(async () => (await conversationLog.list(conversationId))[0], `the logged exchange of ${conversationId}`));

  beforeAll(async () => {
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleOutput.push(args.map(String).join(' ')));
    }
    slack = await startFakeSlack({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    ai = await startFakeOpenAi();
    const logger = pino({ level: 'debug' }, { write: (line: string) => void (raw.push(line), lines.push(JSON.parse(line) as Record<string, unknown>)) });
    server = await startSlackBot(
      slack,
      ai,
      {
        SLACK_BOT_TOKEN: '',
        SLACK_CLIENT_ID: CLIENT_ID,
        SLACK_CLIENT_SECRET: CLIENT_SECRET,
        SLACK_STATE_SECRET: 'state-secret-for-tests-0123456789',
        SLACK_INSTALLATION_KEY: KEY.toString('base64'),
        PUBLIC_URL: 'https://bot.example.com',
      },
      undefined,
      { bot: { logger, conversationLog } },
    );
    installations = new ParleyInstallationStore({ store: server.bot.store, keys: [KEY] });
  });
  afterAll(async () => {
    await server?.close();
    await slack?.close();
    await ai?.close();
    vi.restoreAllMocks();
  });
  afterEach(() => slack.reset());

  it('starts without a bot token: no auth.test', () => {
    expect(slack.callsTo('auth.test')).toHaveLength(0);
  });

  it('answers each workspace with its own installation token', async () => {
    await installations.storeInstallation(workspaceInstall('T0ALPHA', 'xoxb-alpha-token'));
    await installations.storeInstallation(workspaceInstall('T0BETA', 'xoxb-beta-token', { enterprise: 'E0GRID' }));
    const alpha = appMention({ team: 'T0ALPHA', channel: 'C0ALPHA', text: 'hello from alpha' });
    // A workspace installed on its own inside a Grid org: the enterprise is part of its installation's key.
    const beta = { ...appMention({ team: 'T0BETA', channel: 'C0BETA', text: 'hello from beta' }), enterprise_id: 'E0GRID' };
    (beta.authorizations[0] as { enterprise_id: unknown }).enterprise_id = 'E0GRID';
    const [a, b] = await Promise.all([postSlack(server.url, alpha), postSlack(server.url, beta)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const [alphaPost] = await until(() => (postsIn('C0ALPHA').length ? postsIn('C0ALPHA') : undefined), 'the reply in alpha');
    const [betaPost] = await until(() => (postsIn('C0BETA').length ? postsIn('C0BETA') : undefined), 'the reply in beta');
    expect(alphaPost!.token).toBe('xoxb-alpha-token');
    expect(alphaPost!.args.text).toBe('echo: hello from alpha');
    expect(betaPost!.token).toBe('xoxb-beta-token');
    expect(betaPost!.headers.authorization).toBe('Bearer xoxb-beta-token');
    // The workspace is the tenant.
    expect((await loggedExchange(`T0BETA:C0BETA:${beta.event.ts}`)).tenant).toBe('T0BETA');
  });

  it('answers in a Slack Connect channel with the installation Slack names (authorizations), not the other organisation\'s', async () => {
    await installations.storeInstallation(workspaceInstall('T0HOST', 'xoxb-host-token'));
    // bolt-js#935: in a shared channel team_id is the other organisation's workspace (not installed here).
    const shared = { ...appMention({ team: 'T0OTHERORG', channel: 'C0SHARED', text: 'hello across orgs' }), enterprise_id: 'E0OTHER', is_ext_shared_channel: true };
    shared.authorizations[0]!.team_id = 'T0HOST';
    expect((await postSlack(server.url, shared)).status).toBe(200);
    const [post] = await until(() => (postsIn('C0SHARED').length ? postsIn('C0SHARED') : undefined), 'the reply in the shared channel');
    expect(post!.token).toBe('xoxb-host-token');
    expect(post!.args.text).toBe('echo: hello across orgs');
    expect((await loggedExchange(`T0HOST:C0SHARED:${shared.event.ts}`)).tenant).toBe('T0HOST');
  });

  it('an org-wide install in a Slack Connect channel: a thread is one conversation of the workspace the app is in (context_team_id), whoever writes', async () => {
    await installations.storeInstallation(orgInstall('E0HOSTORG', 'xoxb-hostorg-token'));
    // Org-wide, authorizations[0] names no workspace; in a shared channel team_id is the writer's organisation's.
    const inShared = <E extends SlackEventPayload>(envelope: SlackEventEnvelope<E>) => ({ ...fromOrgInstall(envelope, 'E0HOSTORG'), context_team_id: 'T0HOSTWS', is_ext_shared_channel: true });
    const mention = appMention({ team: 'T0HOSTWS', channel: 'C0SHAREDORG', text: 'start here' });
    expect((await postSlack(server.url, inShared(mention))).status).toBe(200);
    await until(() => (postsIn('C0SHAREDORG').length ? true : undefined), 'the answer to the mention');
    // A follow-up in that thread, no mention, from the other organisation's user.
    const followUp = channelMessage({ team: 'T0OTHERORG', user: 'U0GUEST', channel: 'C0SHAREDORG', threadTs: mention.event.ts, text: 'and a follow-up' });
    expect((await postSlack(server.url, inShared(followUp))).status).toBe(200);
    const posts = await until(() => (postsIn('C0SHAREDORG').length === 2 ? postsIn('C0SHAREDORG') : undefined), 'the answer to the follow-up');
    expect(posts[1]!.token).toBe('xoxb-hostorg-token');
    expect(posts[1]!.args.thread_ts).toBe(mention.event.ts);
    const thread = await until(async () => ((await conversationLog.list(`T0HOSTWS:C0SHAREDORG:${mention.event.ts}`)).length === 2 ? conversationLog.list(`T0HOSTWS:C0SHAREDORG:${mention.event.ts}`) : undefined), 'both exchanges in one conversation');
    expect(thread.map((entry) => entry.tenant)).toEqual(['T0HOSTWS', 'T0HOSTWS']);
  });

  it('answers a workspace of an Enterprise Grid org through the org-wide installation', async () => {
    await installations.storeInstallation(orgInstall('E0ORG', 'xoxb-org-token'));
    const mention = appMention({ team: 'T0ORGTEAM', channel: 'C0ORG', text: 'hello from the org' });
    const res = await postSlack(server.url, fromOrgInstall(mention, 'E0ORG'));
    expect(res.status).toBe(200);
    const [post] = await until(() => (postsIn('C0ORG').length ? postsIn('C0ORG') : undefined), 'the reply in the org workspace');
    expect(post!.token).toBe('xoxb-org-token');
    expect((await loggedExchange(`T0ORGTEAM:C0ORG:${mention.event.ts}`)).tenant).toBe('T0ORGTEAM');
  });

  it('refreshes an expired rotating token once, stores it back, and replies with the new one', async () => {
    const expired = Math.floor(Date.now() / 1000) - 60;
    await installations.storeInstallation(workspaceInstall('T0ROTATE', 'xoxe.xoxb-1-expired', { refreshToken: 'xoxe-1-refresh-old', expiresAt: expired }));
    const events = [1, 2, 3].map((n) => appMention({ team: 'T0ROTATE', channel: 'C0ROTATE', text: `rotate ${n}` }));
    const responses = await Promise.all(events.map((event) => postSlack(server.url, event)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const posts = await until(() => (postsIn('C0ROTATE').length === 3 ? postsIn('C0ROTATE') : undefined), 'three replies');
    const refreshes = slack.callsTo('oauth.v2.access');
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]!.args).toMatchObject({ grant_type: 'refresh_token', refresh_token: 'xoxe-1-refresh-old', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    const fresh = await installations.fetchInstallation({ teamId: 'T0ROTATE', enterpriseId: undefined, isEnterpriseInstall: false });
    expect(fresh.bot!.token).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
    expect(fresh.bot!.refreshToken).not.toBe('xoxe-1-refresh-old');
    expect(fresh.bot!.expiresAt).toBeGreaterThan(Date.now() / 1000 + 12 * 3600 - 60);
    expect(posts.map((p) => p.token)).toEqual([fresh.bot!.token, fresh.bot!.token, fresh.bot!.token]);
  });

  it('acknowledges an event without waiting for a token refresh; the reply refreshes it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    slack.on('oauth.v2.access', () => ({ after: held }));
    await installations.storeInstallation(workspaceInstall('T0SOON', 'xoxe.xoxb-1-soon', { refreshToken: 'xoxe-1-refresh-soon', expiresAt: Math.floor(Date.now() / 1000) + 60 }));
    const acked = await Promise.race([postSlack(server.url, appMention({ team: 'T0SOON', channel: 'C0SOON', text: 'quick' })), quiet(5000).then(() => undefined)]);
    release();
    expect(acked?.status, 'acknowledged while the refresh was still held').toBe(200);
    const [post] = await until(() => (postsIn('C0SOON').length ? postsIn('C0SOON') : undefined), 'the reply');
    expect(post!.token).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
  });

  it('acknowledges a click on an answer without waiting for a token refresh (the token is still good)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    slack.on('oauth.v2.access', () => ({ after: held }));
    await installations.storeInstallation(workspaceInstall('T0CLICK', 'xoxe.xoxb-1-click', { refreshToken: 'xoxe-1-refresh-click', expiresAt: Math.floor(Date.now() / 1000) + 60 }));
    // A 👍 on an answer parley no longer knows: acknowledged and ignored, as any click is, in time.
    const click = blockActions({ team: 'T0CLICK', channel: 'C0CLICK' });
    click.actions = [{ type: 'feedback_buttons', action_id: 'parley_feedback', block_id: 'parley_feedback:x1:slack:C0CLICK', value: 'good:x1', action_ts: '1700000000.000100' }];
    const acked = await Promise.race([postSlack(server.url, interactionForm(click)), quiet(5000).then(() => undefined)]);
    release();
    expect(acked?.status, 'acknowledged while the refresh was still held').toBe(200);
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(0);
  });

  it('app_uninstalled for an org-wide installation (no authorizations, as Slack sends it) deletes it', async () => {
    await installations.storeInstallation(orgInstall('E0BYE', 'xoxb-org-bye'));
    const event = { ...workspaceEvent('T0BYE', { type: 'app_uninstalled' }, nextSecond()), enterprise_id: 'E0BYE', is_enterprise_install: true };
    delete (event as { authorizations?: unknown }).authorizations;
    expect((await postSlack(server.url, event)).status).toBe(200);
    await expect(installations.fetchInstallation({ teamId: undefined, enterpriseId: 'E0BYE', isEnterpriseInstall: true })).rejects.toThrow(/no Slack installation/);
  });

  it('app_uninstalled naming an org and no workspace (no team_id, no is_enterprise_install) deletes the org-wide installation', async () => {
    await installations.storeInstallation(orgInstall('E0ORGONLY', 'xoxb-org-only'));
    const event: Record<string, unknown> = { ...workspaceEvent('T0UNUSED', { type: 'app_uninstalled' }, nextSecond()), enterprise_id: 'E0ORGONLY' };
    for (const field of ['authorizations', 'team_id', 'context_team_id']) delete event[field];
    expect((await postSlack(server.url, event)).status).toBe(200);
    await expect(installations.fetchInstallation({ teamId: undefined, enterpriseId: 'E0ORGONLY', isEnterpriseInstall: true })).rejects.toThrow(/no Slack installation/);
  });

  it.each([
    ['app_uninstalled', { type: 'app_uninstalled' }],
    ['tokens_revoked', { type: 'tokens_revoked', tokens: { oauth: [], bot: [BOT_USER_ID] } }],
  ])('%s deletes the installation; a later event is acknowledged, not answered, and logged once', async (name, event) => {
    const team = `T0GONE${name.length}`;
    await installations.storeInstallation(workspaceInstall(team, `xoxb-${team}-token`));
    // Answered while installed (and so cached in memory).
    await postSlack(server.url, appMention({ team, channel: `C${team}`, text: 'before' }));
    await until(() => postsIn(`C${team}`)[0], 'the reply before the uninstall');

    const gone = await postSlack(server.url, workspaceEvent(team, event, nextSecond()));
    expect(gone.status).toBe(200);
    await expect(installations.fetchInstallation({ teamId: team, enterpriseId: undefined, isEnterpriseInstall: false })).rejects.toThrow(/no Slack installation/);

    const warnsBefore = lines.filter((l) => l.level === 40 && l.teamId === team).length;
    const later = [appMention({ team, channel: `C${team}`, text: 'after 1' }), appMention({ team, channel: `C${team}`, text: 'after 2' })];
    for (const e of later) expect((await postSlack(server.url, e)).status).toBe(200);
    await quiet();
    expect(postsIn(`C${team}`)).toHaveLength(1);
    expect(ai.calls.filter((c) => JSON.stringify(c).includes('after '))).toHaveLength(0);
    const warns = lines.filter((l) => l.level === 40 && l.teamId === team);
    expect(warns.length - warnsBefore).toBe(1);
    expect(String(warns.at(-1)!.msg)).toMatch(/not installed/);
    expect(lines.filter((l) => l.level === 20 && l.teamId === team && /not installed/.test(String(l.msg)))).toHaveLength(1);
  });

  it('an installation another process deleted (its uninstall) is not answered here, though this process still has it cached', async () => {
    const team = 'T0ELSEWHERE';
    await installations.storeInstallation(workspaceInstall(team, `xoxb-${team}-token`));
    await postSlack(server.url, appMention({ team, channel: `C${team}`, text: 'before' }));
    await until(() => postsIn(`C${team}`)[0], 'the reply before');
    // As the process that received app_uninstalled does: deleted from the shared store, not from this process's cache.
    await installations.deleteInstallation({ teamId: team, enterpriseId: undefined, isEnterpriseInstall: false });
    expect((await postSlack(server.url, appMention({ team, channel: `C${team}`, text: 'after elsewhere' }))).status).toBe(200);
    await until(() => lines.find((l) => String(l.conversation).startsWith(`${team}:`) && l.msg === 'message given up'), 'the message given up');
    expect(postsIn(`C${team}`)).toHaveLength(1);
    expect(ai.calls.filter((c) => JSON.stringify(c).includes('after elsewhere'))).toHaveLength(0);
  });

  it('keeps the installation when tokens_revoked names user tokens only', async () => {
    await installations.storeInstallation(workspaceInstall('T0USERS', 'xoxb-users-token'));
    const res = await postSlack(server.url, workspaceEvent('T0USERS', { type: 'tokens_revoked', tokens: { oauth: ['U0ALICE'], bot: [] } }));
    expect(res.status).toBe(200);
    await postSlack(server.url, appMention({ team: 'T0USERS', channel: 'C0USERS', text: 'still here' }));
    const [post] = await until(() => postsIn('C0USERS')[0] && postsIn('C0USERS'), 'the reply');
    expect(post!.token).toBe('xoxb-users-token');
  });

  it('never puts a token, refresh token or the client secret in a log line', async () => {
    // Everything above ran with debug logs captured.
    expect(lines.length).toBeGreaterThan(0);
    const secrets = /xox[abpe][.-][A-Za-z0-9.-]+|fake-client-secret|state-secret-for-tests/;
    expect(raw.filter((line) => secrets.test(line))).toEqual([]);
    expect(consoleOutput.filter((line) => secrets.test(line))).toEqual([]);
    expect(raw.join('\n')).not.toContain(KEY.toString('base64'));
  });
});

describe('token rotation across processes', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });
  afterAll(async () => slack?.close());

  it('two processes sharing the store refresh an expiring token once', async () => {
    const store = new MemoryStore();
    const installations = new ParleyInstallationStore({ store, keys: [KEY] });
    const soon = Math.floor(Date.now() / 1000) + 60; // within the refresh margin
    await installations.storeInstallation(workspaceInstall('T0SHARED', 'xoxe.xoxb-1-old', { refreshToken: 'xoxe-1-shared', expiresAt: soon }));
    slack.on('oauth.v2.access', () => ({ delayMs: 150 }));
    const logger = pino({ level: 'silent' });
    const processes = [1, 2].map(
      () =>
        new WorkspaceTokens({
          installations: new ParleyInstallationStore({ store, keys: [KEY] }),
          client: new WebClient(undefined, webClientOptions(slack.url)),
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          store: () => store,
          logger: () => logger,
        }),
    );
    const details = { team: 'T0SHARED', channel: 'C0SHARED', user: 'U0ALICE' };
    const tokens = await Promise.all(processes.flatMap((p) => [p.tokenFor(details), p.tokenFor(details)]));
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
  });

  it('a refresh lock left by a process that died mid-refresh is waited out once, not at every reply (the token still works)', async () => {
    const store = new MemoryStore();
    const installations = new ParleyInstallationStore({ store, keys: [KEY] });
    const soon = Math.floor(Date.now() / 1000) + 120; // due (within the refresh margin), not expired
    await installations.storeInstallation(workspaceInstall('T0ORPHAN', 'xoxe.xoxb-1-still-good', { refreshToken: 'xoxe-1-orphan', expiresAt: soon }));
    slack.reset();
    // The process that took the lock was killed after Slack answered its refresh: the lock stays until it lapses.
    expect(await store.acquireLock('parley:slack:token-refresh:-:T0ORPHAN', 60_000)).toBeTypeOf('string');
    let polls = 0;
    const counting = Object.assign(Object.create(store) as MemoryStore, {
      acquireLock: (key: string, ms: number) => (polls++, store.acquireLock(key, ms)),
    });
    const tokens = new WorkspaceTokens({ installations, client: new WebClient(undefined, webClientOptions(slack.url)), clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, store: () => counting, logger: () => pino({ level: 'silent' }), refreshWaitMs: 1_000 });
    const details = { team: 'T0ORPHAN', channel: 'C0ORPHAN', user: 'U0ALICE' };
    expect(await tokens.tokenFor(details)).toBe('xoxe.xoxb-1-still-good'); // the first use waits for the other process, then gives up
    const firstWait = polls;
    expect(firstWait).toBeGreaterThan(3);
    for (let i = 0; i < 3; i++) expect(await tokens.tokenFor(details)).toBe('xoxe.xoxb-1-still-good');
    // Each later use looks at the lock once and takes the working token, instead of polling it for a whole wait again.
    expect(polls - firstWait).toBe(3);
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(0);
  });

  it('keeps using a token that has not expired yet when the refresh fails, and fails once it has', async () => {
    const store = new MemoryStore();
    const installations = new ParleyInstallationStore({ store, keys: [KEY] });
    slack.reset();
    slack.on('oauth.v2.access', () => ({ body: { ok: false, error: 'invalid_refresh_token' } }));
    const lines: string[] = [];
    const tokens = new WorkspaceTokens({
      installations,
      client: new WebClient(undefined, webClientOptions(slack.url)),
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      store: () => store,
      logger: () => pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }),
    });
    const details = { team: 'T0FAIL', channel: 'C0FAIL', user: 'U0ALICE' };
    await installations.storeInstallation(workspaceInstall('T0FAIL', 'xoxe.xoxb-1-lasting', { refreshToken: 'xoxe-1-r', expiresAt: Math.floor(Date.now() / 1000) + 120 }));
    expect(await tokens.tokenFor(details)).toBe('xoxe.xoxb-1-lasting');
    await installations.storeInstallation(workspaceInstall('T0FAIL', 'xoxe.xoxb-1-expired', { refreshToken: 'xoxe-1-r', expiresAt: Math.floor(Date.now() / 1000) - 1 }));
    await expect(tokens.tokenFor(details)).rejects.toThrow(/expired and Slack refused its refresh token \(invalid_refresh_token\): the workspace has to install the app again/);
    expect(lines.join('\n')).not.toMatch(/xoxe/);
  });

  it('a bot refresh token Slack refused is not offered again while the token works (one warn per process); a new refresh token is tried', async () => {
    const store = new MemoryStore();
    const installations = new ParleyInstallationStore({ store, keys: [KEY] });
    slack.reset();
    // Spent already (by a process killed after Slack answered its refresh, before it stored the new tokens): Slack refuses it; other refresh tokens work.
    slack.on('oauth.v2.access', (call) => (call.args.refresh_token === 'xoxe-1-spent' ? { body: { ok: false, error: 'invalid_refresh_token' } } : undefined));
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const processes = [1, 2].map(
      () => new WorkspaceTokens({ installations, client: new WebClient(undefined, webClientOptions(slack.url)), clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, store: () => store, logger: () => logger }),
    );
    const details = { team: 'T0SPENT', channel: 'C0SPENT', user: 'U0ALICE' };
    const due = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;
    await installations.storeInstallation(workspaceInstall('T0SPENT', 'xoxe.xoxb-1-still-good', { refreshToken: 'xoxe-1-spent', expiresAt: due(120) })); // due, not expired
    for (let i = 0; i < 4; i++) for (const p of processes) expect(await p.tokenFor(details)).toBe('xoxe.xoxb-1-still-good');
    expect(await Promise.all([1, 2, 3].map(() => processes[0]!.tokenFor(details)))).toEqual(Array(3).fill('xoxe.xoxb-1-still-good'));
    const refreshes = () => slack.callsTo('oauth.v2.access').map((c) => c.args.refresh_token);
    expect(refreshes()).toEqual(['xoxe-1-spent', 'xoxe-1-spent']); // once per process
    expect(lines.filter((l) => l.level === 40 && l.teamId === 'T0SPENT')).toHaveLength(2);
    // Once the token has expired: dead-lettered, without offering the refused refresh token again.
    await installations.storeInstallation(workspaceInstall('T0SPENT', 'xoxe.xoxb-1-expired', { refreshToken: 'xoxe-1-spent', expiresAt: due(-1) }));
    await expect(processes[1]!.tokenFor(details)).rejects.toMatchObject({ name: 'PermanentError', reason: 'slack_refresh_token_refused' });
    expect(refreshes()).toHaveLength(2);
    // A new refresh token (the workspace installed again, or another process refreshed and stored it) is tried as usual.
    await installations.storeInstallation(workspaceInstall('T0SPENT', 'xoxe.xoxb-1-reinstalled', { refreshToken: 'xoxe-1-fresh', expiresAt: due(120) }));
    expect(await processes[0]!.tokenFor(details)).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
    expect(refreshes()).toEqual(['xoxe-1-spent', 'xoxe-1-spent', 'xoxe-1-fresh']);
    expect(JSON.stringify(lines)).not.toMatch(/xoxe/);
  });

  it("a bot refresh token Slack refused does not stop the installing user's token from being refreshed when it is due", async () => {
    const store = new MemoryStore();
    const installations = new ParleyInstallationStore({ store, keys: [KEY] });
    slack.reset();
    slack.on('oauth.v2.access', (call) => (call.args.refresh_token === 'xoxe-1-bot-spent' ? { body: { ok: false, error: 'invalid_refresh_token' } } : undefined));
    const tokens = new WorkspaceTokens({ installations, client: new WebClient(undefined, webClientOptions(slack.url)), clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, store: () => store, logger: () => pino({ level: 'silent' }), cacheTtlMs: 1 });
    const details = { team: 'T0USERDUE', channel: 'C0USERDUE', user: 'U0ALICE' };
    const due = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;
    const base = workspaceInstall('T0USERDUE', 'xoxe.xoxb-1-bot', { refreshToken: 'xoxe-1-bot-spent', expiresAt: due(6 * 3600) });
    const withUser = (expiresAt: number) => ({ ...base, user: { id: 'U0INSTALLER', token: 'xoxe.xoxp-1-user', refreshToken: 'xoxe-1-user-good', expiresAt, scopes: ['search:read'] } }) as Installation<'v2', false>;
    await installations.storeInstallation(withUser(due(6 * 3600)));
    // Slack refused the bot token (revoked); its refresh token is refused too: remembered.
    expect(await tokens.renew(details, 'xoxe.xoxb-1-bot')).toBeUndefined();
    expect(slack.callsTo('oauth.v2.access').map((c) => c.args.refresh_token)).toEqual(['xoxe-1-bot-spent']);
    // Later the installing user's token is due: its own refresh token works and is used, the bot's refused one is not offered.
    await installations.storeInstallation(withUser(due(60)));
    await new Promise((resolve) => setTimeout(resolve, 5)); // past the 1 ms cache
    expect(await tokens.tokenFor(details)).toBe('xoxe.xoxb-1-bot');
    expect(slack.callsTo('oauth.v2.access').map((c) => c.args.refresh_token)).toEqual(['xoxe-1-bot-spent', 'xoxe-1-user-good']);
    const found = await installations.fetchInstallation({ teamId: 'T0USERDUE', enterpriseId: undefined, isEnterpriseInstall: false });
    expect(found.user?.token).not.toBe('xoxe.xoxp-1-user');
    expect(found.bot?.refreshToken).toBe('xoxe-1-bot-spent');
  });

  it('a refresh that failed otherwise (not invalid_refresh_token) is tried again at the next use', async () => {
    const store = new MemoryStore();
    const installations = new ParleyInstallationStore({ store, keys: [KEY] });
    slack.reset();
    slack.on('oauth.v2.access', () => ({ body: { ok: false, error: 'internal_error' } }));
    const tokens = new WorkspaceTokens({ installations, client: new WebClient(undefined, webClientOptions(slack.url)), clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, store: () => store, logger: () => pino({ level: 'silent' }) });
    const details = { team: 'T0FLAKY', channel: 'C0FLAKY', user: 'U0ALICE' };
    await installations.storeInstallation(workspaceInstall('T0FLAKY', 'xoxe.xoxb-1-flaky', { refreshToken: 'xoxe-1-flaky', expiresAt: Math.floor(Date.now() / 1000) + 120 }));
    for (let i = 0; i < 3; i++) expect(await tokens.tokenFor(details)).toBe('xoxe.xoxb-1-flaky');
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(3);
  });

  it('keeps a refreshed token the store could not take, uses it, and stores it once the store is back (the refresh token is spent once)', async () => {
    const { tokens, state, stored, details } = await tokensWithFlakyStore(slack, 'T0BLIP', 'xoxe-1-first-refresh', { cacheTtlMs: 1 }); // every use goes past the cache
    const first = await tokens.tokenFor(details);
    expect(first).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
    await quiet(10);
    expect(await tokens.tokenFor(details)).toBe(first);
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(1);
    state.down = false;
    const found = await until(async () => {
      const now = await stored();
      return now.bot!.token === first ? now : undefined;
    }, 'the refreshed token in the store');
    expect(found.bot!.refreshToken).not.toBe('xoxe-1-first-refresh');
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(1);
  });

  it('two refreshes while the store is down: the newest refresh token is stored once it is back, and the next refresh works', async () => {
    // Every token counts as about to expire (12 h tokens, refreshed 48 h early): each use refreshes.
    const { tokens, state, stored, details } = await tokensWithFlakyStore(slack, 'T0TWICE', 'xoxe-1-twice-r0', { cacheTtlMs: 1, refreshEarlyMs: 48 * 3_600_000 });
    await tokens.tokenFor(details);
    const second = await tokens.tokenFor(details);
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(2);
    state.down = false;
    const found = await until(async () => {
      const now = await stored();
      return now.bot!.token === second ? now : undefined;
    }, 'the newest refresh in the store', 5000);
    expect(found.bot!.refreshToken).not.toBe('xoxe-1-twice-r0');
    // The stored refresh token is the live one: the next refresh succeeds.
    expect(await tokens.tokenFor(details)).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
    expect(slack.callsTo('oauth.v2.access').map((c) => c.args.refresh_token)).toHaveLength(3);
  });

  it('a refreshed token still waiting for the store gives way to a reinstall written meanwhile', async () => {
    const { tokens, installations, state, stored, details } = await tokensWithFlakyStore(slack, 'T0REDO', 'xoxe-1-redo-refresh');
    expect(await tokens.tokenFor(details)).toMatch(/^xoxe\.xoxb-1-fake-rotated-/);
    // Another process stores a reinstall (new tokens) while this one's store writes fail.
    await installations.storeInstallation(workspaceInstall('T0REDO', 'xoxb-reinstalled'));
    state.down = false;
    await quiet(1500); // past the next retry
    expect((await stored()).bot!.token).toBe('xoxb-reinstalled');
  });

  it('an uninstall (or a reinstall) written while a refresh is under way wins: the refreshed installation is not stored back or used', async () => {
    for (const [team, meanwhile] of [
      ['T0GONE', 'uninstall'],
      ['T0ANEW', 'reinstall'],
    ] as const) {
      const store = new MemoryStore();
      const installations = new ParleyInstallationStore({ store, keys: [KEY] });
      await installations.storeInstallation(workspaceInstall(team, `xoxe.xoxb-1-${team}`, { refreshToken: `xoxe-1-${team}`, expiresAt: Math.floor(Date.now() / 1000) - 1 }));
      slack.reset();
      slack.on('oauth.v2.access', () => ({ delayMs: 300 }));
      const tokens = new WorkspaceTokens({ installations, client: new WebClient(undefined, webClientOptions(slack.url)), clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, store: () => store, logger: () => pino({ level: 'silent' }) });
      const details = { team, channel: `C${team}`, user: 'U0ALICE' };
      const query = { teamId: team, enterpriseId: undefined, isEnterpriseInstall: false };
      const token = tokens.tokenFor(details).catch((error: Error) => error);
      await until(() => slack.callsTo('oauth.v2.access').length === 1, 'the refresh under way');
      if (meanwhile === 'uninstall') await installations.deleteInstallation(query);
      else await installations.storeInstallation(workspaceInstall(team, 'xoxb-reinstalled'));
      const used = await token;
      if (meanwhile === 'uninstall') {
        expect(await installations.findInstallation(query), 'the installation stays deleted').toBeUndefined();
        expect(used).toBeInstanceOf(Error);
      } else {
        expect((await installations.fetchInstallation(query)).bot!.token).toBe('xoxb-reinstalled');
        expect(used).toBe('xoxb-reinstalled');
      }
    }
  });

  it('a conversation whose workspace has no installation fails for good (dead-lettered, not retried)', async () => {
    const store = new MemoryStore();
    const tokens = new WorkspaceTokens({
      installations: new ParleyInstallationStore({ store, keys: [KEY] }),
      client: new WebClient(undefined, webClientOptions(slack.url)),
      store: () => store,
      logger: () => pino({ level: 'silent' }),
    });
    await expect(tokens.tokenFor({ team: 'T0NONE', channel: 'C', user: 'U' })).rejects.toMatchObject({ name: 'PermanentError', reason: 'slack_not_installed' });
  });
});

describe('streamed replies with many workspaces', () => {
  it('starts, appends and stops the stream with the workspace token, and the thinking status too', async () => {
    const slack = await startFakeSlack({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const reply = Array.from({ length: 220 }, (_, i) => `w${i}`).join('-'); // past the streamer's 256-character buffer
    const ai = await startFakeOpenAi(() => ({ text: reply }));
    const server = await startSlackBot(slack, ai, {
      SLACK_BOT_TOKEN: '',
      SLACK_STREAMING: 'on',
      SLACK_CLIENT_ID: CLIENT_ID,
      SLACK_CLIENT_SECRET: CLIENT_SECRET,
      SLACK_STATE_SECRET: 'state-secret-for-tests-0123456789',
      SLACK_INSTALLATION_KEY: KEY.toString('base64'),
    });
    try {
      await new ParleyInstallationStore({ store: server.bot.store, keys: [KEY] }).storeInstallation(workspaceInstall('T0STREAM', 'xoxb-stream-token'));
      await postSlack(server.url, appMention({ team: 'T0STREAM', channel: 'C0STREAM', text: 'stream it' }));
      await until(() => slack.callsTo('chat.stopStream')[0], 'the stream to finish');
      const used = slack.calls.filter((c) => ['chat.startStream', 'chat.appendStream', 'chat.stopStream', 'assistant.threads.setStatus'].includes(c.method));
      expect(used.map((c) => c.method)).toEqual(expect.arrayContaining(['chat.startStream', 'chat.appendStream', 'chat.stopStream', 'assistant.threads.setStatus']));
      expect(used.filter((c) => c.token !== 'xoxb-stream-token')).toEqual([]);
      expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
    } finally {
      await server.close();
      await slack.close();
      await ai.close();
    }
  });
});
