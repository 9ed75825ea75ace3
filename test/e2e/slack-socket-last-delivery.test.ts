/**
 * Slack's last retry over Socket Mode (retry_attempt 3) is handed to the core as its last delivery
 * (AdapterContext.deliver's `lastDelivery`), as the third retry over HTTP is (Received.lastDelivery):
 * once the shutdown's drain has begun, the core still takes it rather than refuse it, which would lose it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import type { Received } from '../../src/adapter.js';
import { MemoryStore } from '../../src/store/index.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startFakeSlackSocket, type FakeSlackSocket } from '../fakes/slack-socket.js';
import { appMention } from '../helpers/slack-events.js';
import { adapterContext } from '../unit/helpers.js';

const closing: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

describe('Slack Socket Mode: the last retry is the last delivery', () => {
  it('hands retry_attempt 3 to deliver as lastDelivery (the event id), and earlier deliveries without it', async () => {
    const slack: FakeSlack = await startFakeSlack();
    closing.push(() => slack.close());
    const socket: FakeSlackSocket = await startFakeSlackSocket();
    closing.push(() => socket.close());
    slack.on('apps.connections.open', () => ({ body: { ok: true, url: socket.url } }));
    const adapter = slackAdapter(slackConfigFromEnv({ SLACK_BOT_TOKEN: 'xoxb-test', SLACK_APP_TOKEN: 'xapp-test', SLACK_API_URL: slack.url })!);
    const delivered: { texts: string[]; lastDelivery: Received['lastDelivery'] }[] = [];
    await adapter.start!(
      adapterContext(new MemoryStore(), {
        deliver: async (messages, options) => void delivered.push({ texts: messages.map((m) => m.text), lastDelivery: options?.lastDelivery }),
      }),
    );
    closing.push(() => adapter.stop!());
    await socket.connected();

    const first = appMention({ text: 'first try' });
    await socket.sendEvent(first);
    await socket.sendEvent(first, { retryAttempt: 2, retryReason: 'timeout' });
    await socket.sendEvent(first, { retryAttempt: 3, retryReason: 'timeout' });

    expect(delivered).toEqual([
      { texts: ['first try'], lastDelivery: undefined },
      { texts: ['first try'], lastDelivery: undefined },
      { texts: ['first try'], lastDelivery: { id: first.event_id } },
    ]);
  });
});
