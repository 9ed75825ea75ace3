/**
 * Bolt's WebClient pools by workspace (adapters/slack/bolt-clients.ts) on a real Bolt App: Bolt
 * keeps `App.clients[teamId]` for every workspace that ever sent an event, uninstalled or not
 * (~30 KB each), so a process serving many workspaces for years grew without end. Only the most
 * recently used 1,000 are kept.
 * Reads Bolt 5.1.0's internal layout on purpose, as test/e2e/slack-bolt-client-pool.test.ts does.
 */
import * as bolt from '@slack/bolt';
import { expect, it } from 'vitest';
import { ParleyReceiver } from '../../adapters/slack/index.js';
import { keepCurrentBoltClient } from '../../adapters/slack/bolt-clients.js';

/** MAX_BOLT_POOLS in adapters/slack/bolt-clients.ts (and the README). */
const KEPT = 1000;

/** A 👍 click from `team`, as Bolt receives it. */
function click(team: string): bolt.ReceiverEvent {
  const body = { type: 'block_actions', team: { id: team }, user: { id: 'U1', team_id: team }, api_app_id: 'A1', actions: [{ type: 'button', action_id: 'noted', block_id: 'b', value: 'v', action_ts: '1.2' }], channel: { id: 'C1' } };
  return { body, ack: async () => undefined };
}

it(`keeps the client pools of the ${KEPT} most recently active workspaces, not of every workspace ever seen`, async () => {
  const app: bolt.App = new bolt.App({
    authorize: async (source) => keepCurrentBoltClient(app, { botToken: `xoxb-${source.teamId}`, teamId: source.teamId }),
    receiver: new ParleyReceiver(),
    tokenVerificationEnabled: false,
  });
  let clicks = 0;
  app.action('noted', async ({ ack }) => void (await ack(), clicks++));
  const clients = () => (app as unknown as { clients: Record<string, unknown> }).clients;
  const pools = () => Object.keys(clients());

  await app.processEvent(click('TLOYAL'));
  const loyalPool = clients().TLOYAL;
  expect(loyalPool).toBeDefined();
  for (let n = 0; n < KEPT + 20; n++) {
    await app.processEvent(click(`T${n}`));
    // One workspace that keeps talking keeps its pool however many others come and go.
    if (n % 100 === 0) await app.processEvent(click('TLOYAL'));
  }

  expect(clicks).toBe(KEPT + 20 + 1 + Math.ceil((KEPT + 20) / 100));
  expect(pools()).toHaveLength(KEPT);
  expect(pools()).toContain('TLOYAL');
  // Its own pool all along, not dropped as the oldest and made again by its next event.
  expect(clients().TLOYAL).toBe(loyalPool);
  expect(pools()).toContain(`T${KEPT + 19}`);
  expect(pools()).not.toContain('T0');
});
