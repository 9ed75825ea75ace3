/**
 * Token rotation and Bolt's WebClients (OAuth on, Redis): Bolt keeps a WebClient per token in
 * `App.clients[teamId].pool` and never drops one, so every refreshed bot token used to leave a
 * client behind for the life of the process (adapters/slack/bolt-clients.ts). Here a workspace's
 * token is refreshed (stored anew, within the refresh margin, so not cached) before each feedback
 * click, so every click Bolt routes is authorized with a new token; after 30 of them the
 * workspace's pool holds the current token's client only.
 * Reads Bolt 5.1.0's internal layout on purpose: if an upgrade changes it, this fails loudly.
 * Real bot server, real Redis, fake Slack Web API and fake AI over HTTP.
 */
import { randomBytes } from 'node:crypto';
import type { App } from '@slack/bolt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { CHANNEL_ID, TEAM_ID, blockActions, interactionForm, postSlack } from '../helpers/slack-events.js';
import { installation, oauthVariables } from '../helpers/slack-installations.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const KEY = randomBytes(32);
const ROTATIONS = 30;
/** Well inside the adapter's 5-minute refresh margin: the installation is read anew for each click. */
const SHORT_LIFE_S = 60;

/** A 👍 on an answer in TEAM_ID's channel, as Slack posts it (parley's own Bolt listener takes it). */
function thumbsUp(n: number): string {
  const click = blockActions({ channel: CHANNEL_ID });
  const exchange = `slack.Ev0POOL${n}`;
  click.actions = [{ type: 'feedback_buttons', action_id: 'parley_feedback', block_id: `parley_feedback:${exchange}:${TEAM_ID}:${CHANNEL_ID}:`, value: `good:${exchange}`, action_ts: '1700000000.000100' }];
  return interactionForm(click);
}

/** Bolt 5.1.0's WebClientPool for a team: `App.clients[teamId].pool`, token → WebClient. */
function boltPool(app: App, team: string): Record<string, unknown> {
  const clients = (app as unknown as { clients?: Record<string, { pool?: Record<string, unknown> }> }).clients;
  expect(clients, 'Bolt App.clients (Bolt 5.1.0 layout): see adapters/slack/bolt-clients.ts').toBeTypeOf('object');
  const pool = clients?.[team]?.pool;
  expect(pool, `Bolt App.clients[${team}].pool (Bolt 5.1.0 layout): see adapters/slack/bolt-clients.ts`).toBeTypeOf('object');
  return pool!;
}

describe("Bolt's WebClient pool under token rotation (OAuth on, Redis)", () => {
  const prefix = uniquePrefix();
  useRedis(prefix);
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  let app: App;

  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    server = await startSlackBot(
      slack,
      ai,
      oauthVariables({ url: REDIS_URL, prefix }, [KEY]),
      (adapterApp) => void (app = adapterApp),
    );
  });
  afterAll(async () => {
    await server?.close();
    await slack?.close();
    await ai?.close();
  });
  afterEach(() => slack.reset());

  it(`${ROTATIONS} clicks, each authorized with a new token: the team's pool keeps the current token's client only`, async () => {
    const installations = new ParleyInstallationStore({ store: server.bot.store, keys: [KEY] });
    const soon = Math.floor(Date.now() / 1000) + SHORT_LIFE_S;
    let latest = '';
    for (let n = 0; n < ROTATIONS; n++) {
      // Refreshed (by another process's reply, say) since the last click.
      latest = `xoxe.xoxb-1-pool-${n}`;
      await installations.storeInstallation(installation(TEAM_ID, latest, { bot: { ...installation(TEAM_ID).bot!, token: latest, expiresAt: soon } }));
      const res = await postSlack(server.url, thumbsUp(n));
      expect(res.status).toBe(200);
    }
    // Every click went through Bolt with a token of its own, as it was (a click waits for no refresh).
    expect(slack.callsTo('oauth.v2.access')).toHaveLength(0);
    // Bolt's pool for the team: the current token's client, not one per token ever seen.
    const pool = boltPool(app, TEAM_ID);
    expect(Object.keys(pool)).toEqual([latest]);
  });
});
