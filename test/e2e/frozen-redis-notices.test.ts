/**
 * A user over the rate limit, Redis frozen for 3 s (frozen-world.ts) at one step of the refused
 * message's ack: past the fail-fast connection's 1.5 s, so the ack gives up (Slack and Intercom get
 * a 503 and redeliver; Twilio never redelivers, and the message is taken again in the background)
 * while Redis carries the step out once it wakes. The user must still get exactly one notice per
 * window, as when nothing froze.
 */
import { describe, it, type TestContext } from 'vitest';
import { startFrozenWorld, slackDelivery as deliverToSlack, slackNotices, FREEZE_MS, NOTICE, type FrozenWorld } from '../helpers/frozen-world.js';
import { postIntercom, userCreated } from '../helpers/intercom-events.js';
import { directMessage, postSlack } from '../helpers/slack-events.js';
import { postTwilio, whatsappMessage } from '../helpers/twilio-webhooks.js';
import { until } from '../helpers/until.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const has = (...parts: string[]) => (command: string) => parts.every((part) => command.includes(part));

/**
 * A world whose user limit is 3 a minute (Intercom counts 2 more: its warm-up's), warmed up on other users: connections open, scripts loaded.
 * Each test's own (its own redis-server and bot), closed when the test finishes: the tests wait out their freezes side by side.
 */
async function limited(test: TestContext): Promise<FrozenWorld> {
  const world = await startFrozenWorld({ RATE_LIMIT_USER_PER_MINUTE: '3' });
  test.onTestFinished(() => world.close());
  await postSlack(world.slackUrl, directMessage({ text: 'warm', user: 'UWARM', channel: 'D0WARM' }));
  await postTwilio(world.twilioUrl, whatsappMessage({ Body: 'warm', From: 'whatsapp:+15550000001' }));
  await postIntercom(world.intercomUrl, userCreated({ conversation: '777000111', body: '<p>warm</p>' }));
  await sleep(1000);
  return world;
}

const slackDelivery = (w: FrozenWorld, text: string, user = 'ULIMIT') => deliverToSlack(w, text, user);

describe.concurrent('a user over the rate limit, Redis frozen 3 s at a step of the refused message', () => {
  it('Slack, at the ack script: the one notice is posted, and later refusals in the window stay silent', async (test) => {
    const { expect } = test;
    const w = await limited(test);
    for (let i = 0; i < 3; i++) expect(await slackDelivery(w, `fill ${i}`)).toEqual([200]);
    w.arm(has('turn-claim:seen:slack.'));
    expect(await slackDelivery(w, 'over')).toEqual([503, 200]);
    expect(w.proxy.frozen).toBe(1);
    await until(() => slackNotices(w).length === 1, 'the notice', 5000);
    expect(await slackDelivery(w, 'over again')).toEqual([200]);
    await sleep(1500);
    expect(slackNotices(w)).toHaveLength(1);
    expect(slackNotices(w)[0]!.args.channel).toBe('D0ULIMIT');
  }, 40_000);

  it('Slack, at whatever the ack sends after the door for a refused message (before: the notice-once SET): the one notice is posted', async (test) => {
    const { expect } = test;
    const w = await limited(test);
    for (let i = 0; i < 3; i++) expect(await slackDelivery(w, `fill ${i}`)).toEqual([200]);
    w.arm(has('limit-notice:'));
    const deliveries = await slackDelivery(w, 'over');
    expect(deliveries.at(-1)).toBe(200);
    await until(() => slackNotices(w).length === 1, 'the notice', 5000);
    expect(await slackDelivery(w, 'over again')).toEqual([200]);
    await sleep(1500);
    expect(slackNotices(w)).toHaveLength(1);
  }, 40_000);

  it('WhatsApp, at the ack script: the notice is sent once (the message taken again in the background is refused, not answered)', async (test) => {
    const { expect } = test;
    const w = await limited(test);
    const from = 'whatsapp:+15550000002';
    for (let i = 0; i < 3; i++) expect((await postTwilio(w.twilioUrl, whatsappMessage({ Body: `fill ${i}`, From: from }))).status).toBe(200);
    await sleep(1000);
    w.arm(has('turn-claim:seen:whatsapp.'));
    expect((await postTwilio(w.twilioUrl, whatsappMessage({ Body: 'over', From: from }))).status).toBe(200);
    expect(w.proxy.frozen).toBe(1);
    const notices = () => w.twilio.calls.filter((c) => c.form.To === from && (c.form.Body ?? '').startsWith(NOTICE));
    await until(() => notices().length === 1, 'the notice', 10_000);
    await sleep(2000);
    expect(notices()).toHaveLength(1);
    // Nothing else was sent to this user than the three answers and the notice: the refused message was not answered.
    expect(w.twilio.calls.filter((c) => c.form.To === from)).toHaveLength(4);
  }, 40_000);

  it('Intercom, at the ack script: the notice is posted once the redelivery is taken', async (test) => {
    const { expect } = test;
    const w = await limited(test);
    for (let i = 0; i < 2; i++) expect((await postIntercom(w.intercomUrl, userCreated({ conversation: `77700099${i}`, body: `<p>fill ${i}</p>` }))).status).toBe(200);
    await sleep(1000);
    w.arm(has('turn-claim:seen:intercom.'));
    const over = userCreated({ conversation: '777000222', body: '<p>over</p>' });
    expect((await postIntercom(w.intercomUrl, over)).status).toBe(503);
    await sleep(FREEZE_MS + 500);
    expect((await postIntercom(w.intercomUrl, over)).status).toBe(200);
    const notices = () => w.intercom.callsTo('reply').filter((c) => c.conversationId === '777000222');
    await until(() => notices().length === 1, 'the notice', 5000);
    await sleep(1500);
    expect(notices()).toHaveLength(1);
    expect(String((notices()[0]!.body as { body?: string }).body)).toContain('faster than I can answer');
  }, 40_000);
});
