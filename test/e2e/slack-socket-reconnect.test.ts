/**
 * Socket Mode's reconnection when Slack's Web API is down: the connection is lost (dropped without
 * a close frame) and apps.connections.open answers an error, a 503 and a cut connection before it
 * hands out a URL again. The SDK's own reconnection let such a failure's rejection go unhandled,
 * which ended the process; here the client keeps trying and connects once Slack is back.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { slackSdkLogger } from '../../adapters/slack/sdk-logger.js';
import { checkedSocketModeClient } from '../../adapters/slack/socket-client.js';
import { webClientOptions } from '../../adapters/slack/web-api-options.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startFakeSlackSocket, type FakeSlackSocket } from '../fakes/slack-socket.js';
import { appMention } from '../helpers/slack-events.js';

const quiet = slackSdkLogger(() => pino({ level: 'silent' }));
const open: { slack?: FakeSlack; sockets: FakeSlackSocket[]; stop?: () => Promise<void> } = { sockets: [] };

afterEach(async () => {
  await open.stop?.();
  for (const socket of open.sockets) await socket.close().catch(() => undefined); // some were closed by the test
  await open.slack?.close();
  open.sockets = [];
});

describe('Socket Mode reconnection while apps.connections.open fails', () => {
  it('keeps trying after a lost connection, without an unhandled rejection, and takes events once Slack is back', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const slack = (open.slack = await startFakeSlack());
      const first = await startFakeSlackSocket();
      const second = await startFakeSlackSocket();
      open.sockets.push(first, second);
      // The first connection; then Slack's API is down: an error the SDK retries itself, a 503, a cut connection; then back.
      slack.on('apps.connections.open', (_call, n) => {
        if (n === 0) return { body: { ok: true, url: first.url } };
        if (n === 1) return { body: { ok: false, error: 'internal_error' } };
        if (n === 2) return { status: 503, body: { ok: false, error: 'service_unavailable' } };
        if (n === 3) return { destroy: true };
        return { body: { ok: true, url: second.url } };
      });
      const failures: unknown[] = [];
      // A short ping timeout: the SDK waits that long times the failures so far before each try.
      const client = checkedSocketModeClient(
        { appToken: 'xapp-test', logger: quiet, clientPingTimeout: 20, clientOptions: webClientOptions(slack.url) },
        { refused: () => undefined, failed: (error) => failures.push(error), reconnectFailed: (error) => failures.push(error) },
      );
      client.on('slack_event', (event: { ack(): Promise<void> }) => void event.ack());
      open.stop = () => client.disconnect();
      await client.start();
      await first.connected();

      await first.close(); // the connection is dropped, no close frame
      await second.connected(10_000);

      const ack = await second.sendEvent(appMention({ text: 'back' }));
      expect(ack.envelope_id).toBe(second.sent[0]!.envelope_id);
      expect(slack.callsTo('apps.connections.open')).toHaveLength(5);
      expect(failures.length).toBeGreaterThanOrEqual(2); // the 503 and the cut connection, each reported
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('stops trying on disconnect() during the outage', async () => {
    const slack = (open.slack = await startFakeSlack());
    const first = await startFakeSlackSocket();
    open.sockets.push(first);
    slack.on('apps.connections.open', (_call, n) => (n === 0 ? { body: { ok: true, url: first.url } } : { status: 503, body: { ok: false, error: 'service_unavailable' } }));
    const failures: unknown[] = [];
    const client = checkedSocketModeClient(
      { appToken: 'xapp-test', logger: quiet, clientPingTimeout: 20, clientOptions: webClientOptions(slack.url) },
      { refused: () => undefined, failed: (error) => failures.push(error), reconnectFailed: (error) => failures.push(error) },
    );
    await client.start();
    await first.connected();
    await first.close();
    while (failures.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    await client.disconnect();
    const calls = slack.callsTo('apps.connections.open').length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(slack.callsTo('apps.connections.open').length).toBe(calls);
  });

  it('opens no connection once disconnect() came while a reconnection\'s apps.connections.open was on its way', async () => {
    const slack = (open.slack = await startFakeSlack());
    const first = await startFakeSlackSocket();
    const second = await startFakeSlackSocket();
    open.sockets.push(first, second);
    let release!: () => void;
    const answer = new Promise<void>((resolve) => (release = resolve));
    let asked!: () => void;
    const onItsWay = new Promise<void>((resolve) => (asked = resolve));
    // The first connection; the reconnection's apps.connections.open answers only once the client was disconnected.
    slack.on('apps.connections.open', (_call, n) => {
      if (n === 0) return { body: { ok: true, url: first.url } };
      asked();
      return { body: { ok: true, url: second.url }, after: answer };
    });
    const client = checkedSocketModeClient(
      { appToken: 'xapp-test', logger: quiet, clientPingTimeout: 20, clientOptions: webClientOptions(slack.url) },
      { refused: () => undefined, failed: () => undefined },
    );
    open.stop = () => client.disconnect();
    // The reconnection the SDK begins on a lost connection: its end, watched.
    const sdk = client as unknown as { start(): Promise<unknown>; delayReconnectAttempt(attempt: () => Promise<unknown>): Promise<unknown> };
    const patched = sdk.delayReconnectAttempt;
    const reconnections: Promise<unknown>[] = [];
    sdk.delayReconnectAttempt = (attempt) => {
      const reconnection = patched.call(sdk, attempt);
      if (attempt === sdk.start) reconnections.push(reconnection);
      return reconnection;
    };
    await client.start();
    await first.connected();
    await first.close();
    await onItsWay;
    await client.disconnect();
    release();
    await reconnections[0];
    expect(second.connections).toEqual([]);
  });

  it('fails a first start, and connects nothing, when disconnect() came while its apps.connections.open was on its way', async () => {
    const slack = (open.slack = await startFakeSlack());
    const third = await startFakeSlackSocket();
    open.sockets.push(third);
    // The bot's start, then its close (adapter.stop) while apps.connections.open is on its way.
    let releaseFirst!: () => void;
    const firstAnswer = new Promise<void>((resolve) => (releaseFirst = resolve));
    let askedFirst!: () => void;
    const firstOnItsWay = new Promise<void>((resolve) => (askedFirst = resolve));
    slack.on('apps.connections.open', () => (askedFirst(), { body: { ok: true, url: third.url }, after: firstAnswer }));
    const fresh = checkedSocketModeClient(
      { appToken: 'xapp-test', logger: quiet, clientOptions: webClientOptions(slack.url) },
      { refused: () => undefined, failed: () => undefined },
    );
    open.stop = () => fresh.disconnect();
    const starting = fresh.start();
    starting.catch(() => undefined);
    await firstOnItsWay;
    await fresh.disconnect();
    releaseFirst();
    await expect(starting).rejects.toThrow(/disconnected/);
    expect(third.connections).toEqual([]);
  });
});
