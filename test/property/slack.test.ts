/**
 * /slack/events against signed malformed payloads: Events API JSON, slash command forms and
 * interaction payloads, generated with fast-check and signed as Slack signs them. Driven through
 * the bot's fetch handler in this process; Slack's Web API (auth.test) is faked over HTTP.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import type { Bot } from '../../src/index.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startInProcessBot, type FetchLike } from '../helpers/in-process.js';
import {
  appMention,
  assistantThreadStarted,
  blockActions,
  botMessage,
  channelMessage,
  directMessage,
  globalShortcut,
  interactionForm,
  messageChanged,
  postSlack,
  slashCommand,
  urlVerification,
  viewSubmission,
} from '../helpers/slack-events.js';
import { testEnv } from '../helpers/web-bot.js';
import { brokenFormEncoding, encodeForm, malformedJson, mutatedForm } from './arbitraries.js';
import { countIn, sendMalformed } from './harness.js';

const URL_ = 'http://127.0.0.1/slack/events';

const events = fc.constantFrom<() => object>(
  () => appMention({ text: 'what is parley?' }),
  () => directMessage({ text: 'hello' }),
  () => channelMessage({ text: 'in a thread', threadTs: '1700000000.000100' }),
  () => botMessage({ botId: 'B0OTHER' }),
  () => messageChanged({ text: 'edited' }),
  () => assistantThreadStarted(),
  () => urlVerification('challenge-accepted'),
);
const interactions = fc.constantFrom<() => object>(() => blockActions(), () => viewSubmission(), () => globalShortcut());
const commands = fc.constant(() => Object.fromEntries(new URLSearchParams(slashCommand({ command: '/ask', text: 'what is parley?' }))));

describe('/slack/events under signed malformed payloads (fast-check)', () => {
  let slack: FakeSlack;
  let bot: Bot;
  let send: FetchLike;
  beforeAll(async () => {
    slack = await startFakeSlack();
    const env = { ...testEnv, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url };
    const adapter = slackAdapter(slackConfigFromEnv(env)!);
    // A developer's listeners, acknowledging what they match, so Bolt's matching runs on every payload.
    adapter.app.action(/^(?!explode$)/, async ({ ack }) => ack());
    adapter.app.action('explode', async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'value')");
    });
    adapter.app.command(/.*/, async ({ ack }) => ack());
    adapter.app.view(/.*/, async ({ ack }) => ack());
    adapter.app.shortcut(/.*/, async ({ ack }) => ack());
    ({ bot, send } = await startInProcessBot(env, adapter));
  });
  afterAll(async () => {
    await bot.close();
    await slack.close();
  });

  it('answers the known poison cases without a 5xx: event_id not a string, block_actions without what Bolt reads, a modal without its state', async () => {
    const waiting = (await bot.queue.counts()).waiting;
    const numericId = { ...appMention({ text: 'hi' }), event_id: 12345 };
    const res = await postSlack(URL_, numericId, { fetch: send });
    expect(res.status).toBe(200); // the Events API would redeliver anything else
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_payload' } });
    const { user: _user, team: _team, ...noUser } = blockActions();
    const action = await postSlack(URL_, interactionForm(noUser), { fetch: send });
    expect(action.status).toBe(400);
    expect(await action.json()).toMatchObject({ error: { code: 'invalid_payload' } });
    const nullPayload = await postSlack(URL_, 'payload=null', { fetch: send });
    expect(nullPayload.status).toBe(400);
    // A submission of parley's own feedback modal whose state is not an object: refused, not a TypeError in its listener.
    const reason = viewSubmission({ callbackId: 'parley_feedback_reason' });
    const noState = { ...reason, view: { ...(reason.view as object), private_metadata: '{bad', state: null } };
    const submission = await postSlack(URL_, interactionForm(noState), { fetch: send });
    expect(submission.status).toBe(400);
    expect(await submission.json()).toMatchObject({ error: { code: 'invalid_payload' } });
    // Found by the generator: an event type that names an Object.prototype property.
    const protoType = appMention({ text: 'hi' });
    protoType.event.type = '__proto__';
    expect((await postSlack(URL_, protoType, { fetch: send })).status).toBe(200);
    expect((await bot.queue.counts()).waiting).toBe(waiting);
    const metrics = await bot.metrics.registry.getSingleMetricAsString('parley_webhooks_rejected_total');
    expect(metrics).toContain('platform="slack",reason="invalid_payload"');
  });

  it('answers a listener that throws on an odd interaction with a 4xx, not a 5xx', async () => {
    const res = await postSlack(URL_, interactionForm(blockActions({ actionId: 'explode' })), { fetch: send });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'listener_failed' } });
  });

  it('still takes valid payloads (the generators start from these)', async () => {
    const waiting = (await bot.queue.counts()).waiting;
    expect((await postSlack(URL_, appMention({ text: 'valid' }), { fetch: send })).status).toBe(200);
    expect((await bot.queue.counts()).waiting).toBe(waiting + 1);
    expect((await postSlack(URL_, interactionForm(blockActions()), { fetch: send })).status).toBe(200);
    expect((await postSlack(URL_, slashCommand({ command: '/ask', text: 'x' }), { fetch: send })).status).toBe(200);
    // Media types are case-insensitive (a proxy may rewrite the header): still a form, still taken.
    const upperCase = await postSlack(URL_, slashCommand({ command: '/ask', text: 'x' }), { fetch: send, contentType: 'Application/X-WWW-Form-Urlencoded; charset=UTF-8' });
    expect(upperCase.status).toBe(200);
    expect(await upperCase.text()).toBe(''); // the developer's listener's ack, not 'could not be parsed'
  });

  it('Events API: 1,200 signed malformed JSON bodies, every one answered 200 (never 4xx, never 5xx)', async () => {
    const tally = await sendMalformed(malformedJson(events), (body) => postSlack(URL_, body, { contentType: 'application/json', fetch: send }), 1200, (status) => status === 200);
    expect(tally.total).toBeGreaterThanOrEqual(1200);
    expect(tally.statuses).toEqual({ 200: tally.total });
  });

  it('interactivity: 600 signed malformed payloads, 4xx or 200, never 5xx, never a signature failure', async () => {
    const body = fc.oneof({ weight: 9, arbitrary: malformedJson(interactions).map((payload) => new URLSearchParams({ payload }).toString()) }, { weight: 1, arbitrary: brokenFormEncoding });
    const tally = await sendMalformed(body, (form) => postSlack(URL_, form, { fetch: send }), 600, (status) => status === 200 || status === 400);
    expect(countIn(tally, 500, 600)).toBe(0);
    expect(countIn(tally, 401, 404)).toBe(0);
    expect(countIn(tally, 400, 401)).toBeGreaterThan(0);
    expect(countIn(tally, 200, 300)).toBeGreaterThan(0);
  });

  it('slash commands: 400 signed malformed forms, 4xx or 200, never 5xx', async () => {
    const body = fc.oneof({ weight: 9, arbitrary: mutatedForm(commands).map(encodeForm) }, { weight: 1, arbitrary: brokenFormEncoding });
    const tally = await sendMalformed(body, (form) => postSlack(URL_, form, { fetch: send }), 400, (status) => status === 200 || status === 400);
    expect(countIn(tally, 500, 600)).toBe(0);
    expect(countIn(tally, 401, 404)).toBe(0);
    expect(countIn(tally, 400, 401)).toBeGreaterThan(0);
  });

  it('keeps serving afterwards', async () => {
    expect((await send('http://127.0.0.1/healthz', { method: 'GET' })).status).toBe(200);
  });
});
