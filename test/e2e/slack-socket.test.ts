/**
 * Slack over Socket Mode, end to end: the real Bolt App and SocketModeClient connect to a fake
 * Socket Mode endpoint (a local WebSocket server) whose URL the fake Web API hands out from
 * `apps.connections.open`; the AI is the fake OpenAI server. No HTTP server of ours is involved.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { slackConfigFromEnv } from '../../adapters/slack/index.js';
import { lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import type { FakeSlack } from '../fakes/slack-api.js';
import type { FakeSlackSocket } from '../fakes/slack-socket.js';
import { CHANNEL_ID, DEFAULT_SIGNING_SECRET, DM_CHANNEL_ID, appMention, directMessage, signSlack } from '../helpers/slack-events.js';
import { APP_TOKEN, BOT_TOKEN, startSocketBot, within, type SocketBot } from '../helpers/slack-socket-bot.js';
import { until } from '../helpers/until.js';

const quiet = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

/** Ref'd handles and requests that keep the process alive, counted by kind. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

function resourcesAbove(baseline: Map<string, number>): string[] {
  return [...activeResources()].filter(([kind, n]) => n > (baseline.get(kind) ?? 0)).map(([kind, n]) => `${kind} ×${n - (baseline.get(kind) ?? 0)}`);
}

describe('Slack over Socket Mode, end to end (Web API, socket endpoint and the AI faked)', () => {
  let baseline: Map<string, number>;
  let world: SocketBot | undefined;
  let slack: FakeSlack;
  let socket: FakeSlackSocket;
  let ai: FakeOpenAi;
  const posts = () => slack.callsTo('chat.postMessage');

  beforeAll(async () => {
    baseline = activeResources();
    world = await startSocketBot();
    ({ slack, socket, ai } = world);
  });

  afterAll(async () => {
    // The last test closes everything; this is for a run that failed before it did.
    await world?.closeAll();
  });

  it('reads a Socket Mode configuration without a signing secret', () => {
    const config = slackConfigFromEnv({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN });
    expect(config).toMatchObject({ botToken: BOT_TOKEN, appToken: APP_TOKEN, signingSecrets: [] });
  });

  it('opens one connection with the app token and looks up the bot with the bot token', () => {
    const opens = slack.callsTo('apps.connections.open');
    expect(opens).toHaveLength(1);
    expect(opens[0]!.token).toBe(APP_TOKEN);
    expect(slack.callsTo('auth.test').map((c) => c.token)).toEqual([BOT_TOKEN]);
    expect(socket.connections).toHaveLength(1);
    expect(socket.connections[0]).toMatch(/^\/link\/\?ticket=/);
    expect(socket.openConnections).toBe(1);
  });

  it('acknowledges a mention and answers it in the thread of the mention', async () => {
    const event = appMention({ text: 'what is parley over a socket?' });
    const ack = await socket.sendEvent(event);
    expect(ack.envelope_id).toBe(socket.sent.at(-1)!.envelope_id);
    const [post] = await until(() => (posts().length ? posts() : undefined), 'a reply');
    expect(post!.token).toBe(BOT_TOKEN);
    expect(post!.args).toMatchObject({ channel: CHANNEL_ID, thread_ts: event.event.ts, text: 'echo: what is parley over a socket?' });
    expect(lastUserText(ai.calls.at(-1)!)).toBe('what is parley over a socket?');
  });

  it('answers a redelivered event (new envelope, same event_id) once', async () => {
    const before = posts().length;
    const aiBefore = ai.calls.length;
    const event = appMention({ text: 'only once over the socket' });
    const first = await socket.sendEvent(event);
    const again = await socket.sendEvent(event, { retryAttempt: 1, retryReason: 'timeout' });
    expect(again.envelope_id).not.toBe(first.envelope_id);
    await until(() => (posts().length > before ? true : undefined), 'the reply');
    await quiet();
    const replies = posts().slice(before);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.args).toMatchObject({ channel: CHANNEL_ID, thread_ts: event.event.ts, text: 'echo: only once over the socket' });
    expect(ai.calls.slice(aiBefore).map(lastUserText)).toEqual(['only once over the socket']);
  });

  it('answers a direct message in the DM', async () => {
    const before = posts().length;
    await socket.sendEvent(directMessage({ text: 'hello over the socket' }));
    await until(() => (posts().length > before ? true : undefined), 'a DM reply');
    const post = posts()[before]!;
    expect(post.args.channel).toBe(DM_CHANNEL_ID);
    expect(post.args.thread_ts).toBeUndefined();
    expect(post.args.text).toBe('echo: hello over the socket');
  });

  it('acknowledged every envelope it was sent, each once', () => {
    expect(socket.acks.map((a) => a.envelope_id).sort()).toEqual(socket.sent.map((e) => e.envelope_id).sort());
  });

  it('refuses webhook POSTs: with no signing secret, no signature verifies', async () => {
    const aiBefore = world!.ai.calls.length;
    const body = JSON.stringify(appMention({ text: 'sneaking in over HTTP' }));
    const res = await world!.bot.handle({
      method: 'POST',
      url: new URL('http://127.0.0.1/slack/events'),
      headers: { 'content-type': 'application/json', ...signSlack(DEFAULT_SIGNING_SECRET, body) },
      body: Buffer.from(body),
    });
    expect(res.status).toBe(401);
    await quiet(100);
    expect(world!.ai.calls.length).toBe(aiBefore);
  });

  it('closes the socket on bot.close(), does not reconnect, and leaves no handles behind', async () => {
    await within(world!.bot.close(), 5000, 'bot.close()');
    await socket.disconnected(5000);
    await quiet(); // a client that meant to reconnect would ask apps.connections.open again
    expect(slack.callsTo('apps.connections.open')).toHaveLength(1);
    expect(socket.connections).toHaveLength(1);

    const closing = world!.closeAll();
    world = undefined;
    await closing;
    const deadline = Date.now() + 3000;
    while (resourcesAbove(baseline).length > 0 && Date.now() < deadline) await quiet(50);
    expect(resourcesAbove(baseline)).toEqual([]);
  });
});

describe("Slack over Socket Mode next to a developer's listener", () => {
  it('acknowledges a mention once it is queued, without waiting for the app_mention listener; parley answers once', async () => {
    const seen: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { socket, slack, closeAll } = await startSocketBot((app) => {
      app.event('app_mention', async ({ event }) => {
        await gate; // an acknowledgement that waited for this listener would never come
        seen.push(`listener: ${event.text}`);
      });
    });
    try {
      const event = appMention({ text: 'over the socket, with a listener' });
      await socket.sendEvent(event, { ackTimeoutMs: 3000 });
      open();
      await until(() => seen[0], 'the listener');
      const [post] = await until(() => (slack.callsTo('chat.postMessage').length ? slack.callsTo('chat.postMessage') : undefined), 'the answer');
      expect(post!.args).toMatchObject({ channel: CHANNEL_ID, thread_ts: event.event.ts, text: 'echo: over the socket, with a listener' });
      await quiet();
      expect(seen).toEqual([`listener: ${event.event.text}`]);
      expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    } finally {
      await closeAll();
    }
  });
});

describe('Slack over Socket Mode: nothing lost, clean shutdown', () => {
  // Bolt acks every Events API envelope before any middleware runs, so parley owns the Socket
  // Mode client and acknowledges only once the message is queued: otherwise Slack redelivers.
  it('does not acknowledge an envelope whose message could not be queued, so Slack redelivers it', async () => {
    const { bot, slack, socket, closeAll } = await startSocketBot();
    try {
      const event = appMention({ text: 'while the queue is down' });
      vi.spyOn(bot.queue, 'add').mockRejectedValueOnce(new Error('queue down'));
      const first = await socket.sendEvent(event, { ackTimeoutMs: 1000 }).then(
        () => 'acked',
        () => 'not acked',
      );
      expect(first).toBe('not acked');
      await socket.sendEvent(event, { retryAttempt: 1, retryReason: 'timeout' });
      const [post] = await until(() => slack.callsTo('chat.postMessage')[0] && slack.callsTo('chat.postMessage'), 'the reply to the redelivery');
      expect(post!.args.text).toBe('echo: while the queue is down');
    } finally {
      vi.restoreAllMocks();
      await closeAll();
    }
  });

  // Bolt's SocketModeReceiver.stop() resolves before the connection is closed; ours waits.
  it('bot.close() resolves once the Socket Mode connection is closed', async () => {
    const { bot, socket, closeAll } = await startSocketBot();
    try {
      await within(bot.close(), 5000, 'bot.close()');
      expect(socket.openConnections).toBe(0);
    } finally {
      await closeAll();
    }
  });
});
