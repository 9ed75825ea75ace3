/**
 * The Intercom webhook against signed malformed notifications, generated with fast-check and
 * signed as Intercom signs them (X-Hub-Signature). Intercom redelivers anything but a 2xx, so
 * every one must get a 200. Driven through the bot's fetch handler in this process; Intercom's
 * API is faked over HTTP.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intercomAdapter, intercomConfigFromEnv } from '../../adapters/intercom/index.js';
import type { Bot } from '../../src/index.js';
import { startFakeIntercom, type FakeIntercom } from '../fakes/intercom-api.js';
import { startInProcessBot, type FetchLike } from '../helpers/in-process.js';
import { DEFAULT_CLIENT_SECRET, adminAuthor, adminReplied, conversationId, imageAttachment, otherTopic, part, ping, postIntercom, userCreated, userReplied } from '../helpers/intercom-events.js';
import { testEnv } from '../helpers/web-bot.js';
import { malformedJson } from './arbitraries.js';
import { sendMalformed } from './harness.js';

const URL_ = 'http://127.0.0.1/intercom/webhook';
const notifications = fc.constantFrom<() => object>(
  () => userCreated({ body: '<p>Hello, <b>is</b> anyone there?</p>', attachments: [imageAttachment()] }),
  () => userReplied({ parts: [part('<p>first</p>'), part('<p>second</p>', { author: adminAuthor('5150') }), part('<p>third</p>')] }),
  () => adminReplied({ conversation: conversationId(), adminId: '5150' }),
  () => otherTopic('conversation.admin.closed'),
  () => ping(),
);

describe('the Intercom webhook under signed malformed notifications (fast-check)', () => {
  let intercom: FakeIntercom;
  let bot: Bot;
  let send: FetchLike;
  beforeAll(async () => {
    intercom = await startFakeIntercom();
    const env = { ...testEnv, INTERCOM_ACCESS_TOKEN: 'dG9rOnBhcmxleS10ZXN0LXRva2Vu', INTERCOM_CLIENT_SECRET: DEFAULT_CLIENT_SECRET, INTERCOM_API_URL: intercom.url };
    ({ bot, send } = await startInProcessBot(env, intercomAdapter(intercomConfigFromEnv(env)!)));
  });
  afterAll(async () => {
    await bot.close();
    await intercom.close();
  });

  it('still takes a valid notification, and drops one whose conversation id is an object or holds a lone surrogate with a 200', async () => {
    const waiting = (await bot.queue.counts()).waiting;
    expect((await postIntercom(URL_, userCreated({ body: '<p>hi</p>' }), { fetch: send })).status).toBe(200);
    expect((await bot.queue.counts()).waiting).toBe(waiting + 1);
    const odd = userCreated({ body: '<p>hi</p>' });
    odd.data.item.id = { nested: true };
    const res = await postIntercom(URL_, odd, { fetch: send });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_payload' } });
    expect((await bot.queue.counts()).waiting).toBe(waiting + 1);
    // Half an emoji in the conversation id: every API call about it would fail (it goes into the path).
    const halfEmoji = await postIntercom(URL_, userCreated({ conversation: '77\ud800', body: '<p>hi</p>' }), { fetch: send });
    expect(halfEmoji.status).toBe(200);
    expect(await halfEmoji.json()).toMatchObject({ error: { code: 'invalid_payload' } });
    expect((await bot.queue.counts()).waiting).toBe(waiting + 1);
  });

  it('1,200 signed malformed notifications, every one answered 200 (never 4xx, never 5xx)', async () => {
    const tally = await sendMalformed(malformedJson(notifications), (body) => postIntercom(URL_, body, { fetch: send }), 1200, (status) => status === 200);
    expect(tally.total).toBeGreaterThanOrEqual(1200);
    expect(tally.statuses).toEqual({ 200: tally.total });
    const rejected = await bot.metrics.registry.getSingleMetricAsString('parley_webhooks_rejected_total');
    expect(rejected).toMatch(/platform="intercom",reason="invalid_payload"} \d+/);
    expect(rejected).toMatch(/platform="intercom",reason="malformed_body"} \d+/);
  });

  it('keeps serving afterwards', async () => {
    expect((await send('http://127.0.0.1/healthz', { method: 'GET' })).status).toBe(200);
  });
});
