/** The Slack test fakes work with the real SDKs: WebClient against the fake API, Bolt verifying our signatures. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySlackRequest } from '@slack/bolt';
import { ErrorCode, WebClient, type WebAPIRateLimitedError } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import {
  appMention,
  assistantThreadStarted,
  botMessage,
  channelMessage,
  directMessage,
  messageChanged,
  postSlack,
  signSlack,
  slashCommand,
} from '../helpers/slack-events.js';

let fake: FakeSlack;
let client: WebClient;

beforeAll(async () => {
  fake = await startFakeSlack();
  client = new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe('fake Slack Web API', () => {
  it('answers auth.test with the bot identity and records the bearer token', async () => {
    const auth = await client.auth.test();
    expect(auth).toMatchObject({ ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T0PARLEY' });
    const [call] = fake.callsTo('auth.test');
    expect(call?.headers.authorization).toBe('Bearer xoxb-test');
    expect(call?.token).toBe('xoxb-test');
  });

  it('records chat.postMessage arguments and returns distinct, increasing ts', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }];
    const first = await client.chat.postMessage({ channel: 'C1', thread_ts: '1700000000.000001', text: 'hello', blocks });
    const second = await client.chat.postMessage({ channel: 'C1', text: 'again' });
    expect(first.ok).toBe(true);
    expect(first.channel).toBe('C1');
    expect(first.message?.text).toBe('hello');
    expect(first.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(second.ts).not.toBe(first.ts);
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    const calls = fake.callsTo('chat.postMessage');
    expect(calls.map((c) => c.args.text)).toEqual(['hello', 'again']);
    expect(calls[0]?.args).toMatchObject({ channel: 'C1', thread_ts: '1700000000.000001', blocks });
  });

  it('lets a test script a 429 that WebClient turns into a rate-limited error', async () => {
    fake.on('chat.postMessage', (_call, n) =>
      n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } } : undefined,
    );
    const strict = new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
    const error = (await strict.chat.postMessage({ channel: 'C1', text: 'x' }).catch((e: unknown) => e)) as WebAPIRateLimitedError;
    expect(error.code).toBe(ErrorCode.RateLimitedError);
    expect(error.code).toBe('slack_webapi_rate_limited_error');
    expect(error.retryAfter).toBe(1);
    // The override falls back to the default from the second call on.
    await expect(strict.chat.postMessage({ channel: 'C1', text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  it('records a chatStream as startStream, appendStream and stopStream', async () => {
    const streamer = client.chatStream({ channel: 'D1', thread_ts: '1700000000.000001', recipient_team_id: 'T1', recipient_user_id: 'U1', buffer_size: 5 });
    await streamer.append({ markdown_text: 'Hello, ' });
    await streamer.append({ markdown_text: 'world!' });
    await streamer.stop();
    expect(fake.calls.map((c) => c.method)).toEqual(['chat.startStream', 'chat.appendStream', 'chat.stopStream']);
    const [start, append, stop] = fake.calls;
    expect(start?.args).toMatchObject({ channel: 'D1', thread_ts: '1700000000.000001', chunks: [{ type: 'markdown_text', text: 'Hello, ' }] });
    expect(append?.args).toMatchObject({ channel: 'D1', ts: streamer.ts, chunks: [{ type: 'markdown_text', text: 'world!' }] });
    expect(stop?.args).toMatchObject({ channel: 'D1', ts: streamer.ts });
  });

  it('answers assistant, reaction and update methods ok; unknown methods and missing tokens not', async () => {
    await client.assistant.threads.setStatus({ channel_id: 'D1', thread_ts: '1.2', status: 'is thinking…' });
    await client.assistant.threads.setSuggestedPrompts({ channel_id: 'D1', thread_ts: '1.2', prompts: [{ title: 'Hi', message: 'Say hi' }] });
    await client.reactions.add({ channel: 'C1', timestamp: '1.2', name: 'eyes' });
    await client.chat.update({ channel: 'C1', ts: '1.2', text: 'edited' });
    expect(fake.callsTo('assistant.threads.setSuggestedPrompts')[0]?.args.prompts).toEqual([{ title: 'Hi', message: 'Say hi' }]);
    await expect(client.apiCall('no.such.method')).rejects.toMatchObject({ data: { error: 'unknown_method' } });
    const anonymous = new WebClient(undefined, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    await expect(anonymous.auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
  });

  it('parses JSON request bodies too', async () => {
    const response = await fetch(`${fake.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer xoxb-json' },
      body: JSON.stringify({ channel: 'C9', text: 'json', blocks: [{ type: 'divider' }] }),
    });
    expect(await response.json()).toMatchObject({ ok: true, channel: 'C9' });
    expect(fake.callsTo('chat.postMessage')[0]?.args).toEqual({ channel: 'C9', text: 'json', blocks: [{ type: 'divider' }] });
  });
});

describe('Slack event helpers', () => {
  it('sign requests the way Bolt verifies them', () => {
    const body = JSON.stringify(appMention({ text: 'hi' }));
    const headers = signSlack('s3cret', body);
    const asBoltSeesIt = { 'x-slack-signature': headers['x-slack-signature'], 'x-slack-request-timestamp': Number(headers['x-slack-request-timestamp']) };
    expect(() => verifySlackRequest({ signingSecret: 's3cret', body, headers: asBoltSeesIt })).not.toThrow();
    expect(() => verifySlackRequest({ signingSecret: 'other', body, headers: asBoltSeesIt })).toThrow(/signature mismatch/);
    expect(() => verifySlackRequest({ signingSecret: 's3cret', body: `${body} `, headers: asBoltSeesIt })).toThrow(/signature mismatch/);
    const old = signSlack('s3cret', body, Math.floor(Date.now() / 1000) - 600);
    expect(() =>
      verifySlackRequest({ signingSecret: 's3cret', body, headers: { 'x-slack-signature': old['x-slack-signature'], 'x-slack-request-timestamp': Number(old['x-slack-request-timestamp']) } }),
    ).toThrow(/stale/);
  });

  it('build envelopes with unique event ids and ts', () => {
    const a = appMention({ text: 'what is up?' });
    const b = appMention({ text: 'what is up?' });
    expect(a.event_id).not.toBe(b.event_id);
    expect(a.event.ts).not.toBe(b.event.ts);
    expect(a).toMatchObject({ type: 'event_callback', team_id: 'T0PARLEY', authorizations: [{ user_id: 'UBOT', is_bot: true }] });
    expect(a.event).toMatchObject({ type: 'app_mention', text: '<@UBOT> what is up?', channel: 'C0GENERAL', user: 'U0ALICE' });
    expect(appMention({ text: 'x', threadTs: '1.5', eventId: 'Ev1' })).toMatchObject({ event_id: 'Ev1', event: { thread_ts: '1.5' } });
    expect(directMessage({ text: 'dm' }).event).toMatchObject({ type: 'message', channel_type: 'im', channel: expect.stringMatching(/^D/) });
    expect(channelMessage({ text: 'c', threadTs: '1.5' }).event).toMatchObject({ channel_type: 'channel', thread_ts: '1.5' });
    expect(botMessage({ botId: 'B2' }).event).toMatchObject({ subtype: 'bot_message', bot_id: 'B2' });
    expect(messageChanged({ text: 'new', previousText: 'old' }).event).toMatchObject({
      subtype: 'message_changed',
      message: { text: 'new' },
      previous_message: { text: 'old' },
    });
    expect(assistantThreadStarted({ channel: 'D7', threadTs: '9.9' }).event).toMatchObject({
      type: 'assistant_thread_started',
      assistant_thread: { channel_id: 'D7', thread_ts: '9.9', user_id: 'U0ALICE', context: { team_id: 'T0PARLEY', enterprise_id: null } },
    });
    const command = new URLSearchParams(slashCommand({ command: '/ask', text: 'hello there' }));
    expect(command.get('command')).toBe('/ask');
    expect(command.get('text')).toBe('hello there');
    expect(command.get('trigger_id')).toBeTruthy();
  });

  it('postSlack sends a signed request with retry headers', async () => {
    let seen: { headers: Record<string, string | string[] | undefined>; body: string } | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
      const response = await postSlack(url, directMessage({ text: 'hi' }), { retryNum: 1 });
      expect(response.status).toBe(200);
      expect(seen?.headers['content-type']).toBe('application/json');
      expect(seen?.headers['x-slack-retry-num']).toBe('1');
      expect(seen?.headers['x-slack-retry-reason']).toBe('http_timeout');
      const signature = String(seen?.headers['x-slack-signature']);
      const timestamp = Number(seen?.headers['x-slack-request-timestamp']);
      expect(() =>
        verifySlackRequest({ signingSecret: 'test-signing-secret', body: seen?.body ?? '', headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } }),
      ).not.toThrow();
      await postSlack(url, slashCommand({ command: '/ask', text: 'q' }));
      expect(seen?.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(seen?.headers['x-slack-retry-num']).toBeUndefined();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
