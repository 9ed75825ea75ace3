/**
 * What the worker reads while it answers (Intercom's "has a teammate replied" check before posting,
 * a Slack workspace's installation and token with many workspaces) goes to the store that waits out
 * a short Redis stall: one that failed fast after the AI answered would fail the attempt, and the
 * retry ask the AI again. Intercom on a Redis frozen 3 s (frozen-world.ts); Slack with a fail-fast
 * store that times out on every command (a frozen Redis) beside a working patient one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { ParleyInstallationStore } from '../../adapters/slack/installation-store.js';
import { MemoryStore } from '../../src/store/index.js';
import { lastUserText } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startFrozenWorld, type FrozenWorld } from '../helpers/frozen-world.js';
import { postIntercom, userCreated } from '../helpers/intercom-events.js';
import { installation, oauthVariables } from '../helpers/slack-installations.js';
import { until } from '../helpers/until.js';
import { adapterContext } from '../unit/helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let world: FrozenWorld | undefined;
let slack: FakeSlack | undefined;
afterEach(async () => {
  await world?.close();
  await slack?.close();
  world = slack = undefined;
});

describe('Intercom, cache off, Redis frozen 3 s at the "has a teammate replied" read before posting', () => {
  it('posts the reply and asks the AI once', async () => {
    world = await startFrozenWorld();
    const w = world;
    await postIntercom(w.intercomUrl, userCreated({ conversation: '777000111', body: '<p>warm</p>' }));
    await until(() => w.intercom.callsTo('reply').length === 1, 'the warm-up reply');
    // The conversation's "stopped" key is read by ingress, by the worker before it asks the AI, then before it posts.
    let reads = 0;
    w.arm((command) => command.includes('\r\n$3\r\nget\r\n') && command.includes('intercom:stopped:777000222') && ++reads === 3);
    expect((await postIntercom(w.intercomUrl, userCreated({ conversation: '777000222', body: '<p>hello</p>' }))).status).toBe(200);
    await until(() => w.intercom.callsTo('reply').some((c) => c.conversationId === '777000222'), 'the reply', 15_000);
    expect(w.proxy.frozen).toBe(1);
    await sleep(2000);
    expect(w.intercom.callsTo('reply').filter((c) => c.conversationId === '777000222')).toHaveLength(1);
    expect(w.ai.calls.filter((c) => lastUserText(c) === 'hello')).toHaveLength(1);
  }, 40_000);
});

/** A fail-fast store on a frozen Redis: every command times out. */
class FrozenStore extends MemoryStore {
  override async get(): Promise<string | undefined> {
    throw new Error('Command timed out');
  }
  override async setIfAbsent(): Promise<boolean> {
    throw new Error('Command timed out');
  }
}

describe('Slack with many workspaces, the fail-fast store frozen', () => {
  it("reads the workspace's installation before asking the AI, and its token as the reply is posted, through the patient store", async () => {
    slack = await startFakeSlack();
    const keys = [Buffer.alloc(32, 7)];
    const env = { ...oauthVariables({ url: 'redis://127.0.0.1:6379', prefix: 'unused' }, keys), SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url };
    const adapter = slackAdapter(slackConfigFromEnv(env)!);
    const patient = new MemoryStore();
    await new ParleyInstallationStore({ store: patient, keys }).storeInstallation(installation('T0FROZEN'));
    const context = adapterContext(new FrozenStore(), { markerStore: patient });
    await adapter.start!(context);
    const conversation = { platform: 'slack', id: 'T0FROZEN:D0USER', details: { team: 'T0FROZEN', channel: 'D0USER', user: 'U0USER' } };
    // The reply first, while nothing is cached: its token is read from the store.
    await adapter.sendPart!(conversation, 'the answer', { index: 0, total: 1, kind: 'answer' });
    const posted = slack.callsTo('chat.postMessage');
    expect(posted).toHaveLength(1);
    expect(posted[0]!.token).toBe('xoxb-T0FROZEN-secret-token');
    // Before the AI is asked: the installation is read from the store every time.
    await expect(adapter.canReply!(conversation)).resolves.toBeUndefined();
  }, 20_000);
});
