import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { intercomAdapter, intercomConfigFromEnv } from '../../adapters/intercom/index.js';
import { simulateIntercom } from '../../cli/simulate-intercom.js';
import { createBot, loadConfig, variables, type Bot } from '../../src/index.js';
import { startFakeIntercom, type FakeIntercom, type IntercomCall } from '../fakes/intercom-api.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import {
  DEFAULT_CLIENT_SECRET,
  LEAD,
  adminAssigned,
  adminAuthor,
  adminClosed,
  adminReplied,
  botAuthor,
  conversationId,
  imageAttachment,
  otherTopic,
  part,
  ping,
  postIntercom,
  signIntercom,
  userCreated,
  userReplied,
} from '../helpers/intercom-events.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

const TEAM_ID = '4242';
const HUMAN_ADMIN = '5150';

interface IntercomBot {
  bot: Bot;
  url: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

async function startIntercomBot(intercom: FakeIntercom, ai: FakeOpenAi, env: Record<string, string> = {}): Promise<IntercomBot> {
  const allEnv: Record<string, string> = {
    ...testEnv,
    OPENAI_BASE_URL: ai.url,
    INTERCOM_ACCESS_TOKEN: 'dG9rOnBhcmxleS10ZXN0LXRva2Vu',
    INTERCOM_CLIENT_SECRET: `old-intercom-secret-000,${DEFAULT_CLIENT_SECRET}`,
    INTERCOM_API_URL: intercom.url,
    INTERCOM_HANDOFF_TEAM_ID: TEAM_ID,
    ...env,
  };
  const bot = createBot({ config: loadConfig(allEnv), adapters: [intercomAdapter(intercomConfigFromEnv(allEnv)!)] });
  const server = await bot.listen(0, '127.0.0.1');
  await bot.ready;
  const port = (server.address() as AddressInfo).port;
  return { bot, env: { ...allEnv, PORT: String(port), HOST: '127.0.0.1' }, url: `http://127.0.0.1:${port}${allEnv.INTERCOM_WEBHOOK_PATH ?? '/intercom/webhook'}`, close: async () => void (await bot.close()) };
}


const replies = (intercom: FakeIntercom, conversation?: string) => intercom.callsTo('reply').filter((c) => conversation === undefined || c.conversationId === conversation);
const firstReply = (intercom: FakeIntercom, conversation: string) => until(() => replies(intercom, conversation)[0], `a reply in ${conversation}`);
const quiet = (ms = 250) => new Promise((resolve) => setTimeout(resolve, ms));
const echo = (ai: FakeOpenAi) => ai.script((call) => ({ text: `echo: ${lastUserText(call)}` }));

describe('Intercom, end to end (real server; Intercom and the AI faked over HTTP)', () => {
  let intercom: FakeIntercom;
  let ai: FakeOpenAi;
  let server: IntercomBot;
  beforeAll(async () => {
    intercom = await startFakeIntercom();
    ai = await startFakeOpenAi();
    // One customer writes every message of these tests: more than a person's 20 a minute.
    server = await startIntercomBot(intercom, ai, { RATE_LIMIT_USER_PER_MINUTE: '0' });
  });
  afterAll(async () => {
    await server.close();
    await intercom.close();
    await ai.close();
  });
  afterEach(() => {
    intercom.reset();
    echo(ai);
  });

  it('finds the admin it replies as with one GET /me at start', () => {
    const me = intercom.callsTo('me');
    expect(me).toHaveLength(1);
    expect(me[0]!.token).toBe('dG9rOnBhcmxleS10ZXN0LXRva2Vu');
    expect(me[0]!.headers['intercom-version']).toBeDefined();
  });

  it('answers a new conversation as the bot admin: a comment with an HTML body, in the right conversation', async () => {
    const conversation = conversationId();
    // The AI takes 2 s: the webhook must be acknowledged before it has answered, however slow the machine.
    ai.script((call) => ({ text: `echo: ${lastUserText(call)}`, delayMs: 2000 }));
    const res = await postIntercom(server.url, userCreated({ conversation, body: '<p>Hi! How do I <b>reset</b> my password?</p><ul><li>on iOS</li></ul>' }));
    expect(res.status).toBe(200);
    expect(ai.calls.filter((call) => /reset my password/.test(lastUserText(call)) && call.answeredAt !== undefined)).toEqual([]);
    expect(replies(intercom, conversation)).toHaveLength(0); // acknowledged before the AI answered or Intercom was called
    const reply = await firstReply(intercom, conversation);
    expect(reply.body).toEqual({ message_type: 'comment', type: 'admin', admin_id: intercom.adminId, body: '<p>echo: Hi! How do I reset my password?</p><ul><li>on iOS</li></ul>' });
    expect(reply.token).toBe('dG9rOnBhcmxleS10ZXN0LXRva2Vu');
    expect(lastUserText(ai.calls.at(-1)!)).toBe('Hi! How do I reset my password?\n\n- on iOS');
    expect(intercom.callsTo('me')).toHaveLength(0); // not per message
  });

  it('answers the newest customer part of a reply with several parts', async () => {
    const conversation = conversationId();
    const parts = [
      part('<p>What are your opening hours?</p>'),
      part('<p>We are open 9 to 5.</p>', { author: adminAuthor(intercom.adminId, 'Parley Bot') }),
      part('<p>And on <i>Saturdays</i>? See <a href="https://example.com/hours">your page</a></p>'),
    ];
    await postIntercom(server.url, userReplied({ conversation, parts }));
    const reply = await firstReply(intercom, conversation);
    expect(lastUserText(ai.calls.at(-1)!)).toBe('And on Saturdays? See your page (https://example.com/hours)');
    expect(reply.body.body).toContain('echo: And on Saturdays?');
    await quiet();
    expect(replies(intercom, conversation)).toHaveLength(1);
  });

  it('answers a lead (an anonymous visitor) too', async () => {
    const conversation = conversationId();
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>Just browsing</p>', { author: { ...LEAD } })] }));
    const reply = await firstReply(intercom, conversation);
    expect(reply.body.body).toContain('echo: Just browsing');
    await quiet();
    expect(replies(intercom, conversation)).toHaveLength(1);
  });

  it('stays silent for parts written by its own admin, other bots, and internal notes — and still answers the customer after', async () => {
    const conversation = conversationId();
    await postIntercom(server.url, adminReplied({ conversation, adminId: intercom.adminId, body: '<p>echo: an earlier answer</p>' }));
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>Our bot says hi</p>', { author: botAuthor() })] }));
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>Internal note</p>', { author: adminAuthor(HUMAN_ADMIN), partType: 'note' })] }));
    await quiet();
    expect(replies(intercom)).toHaveLength(0);
    expect(ai.calls.filter((c) => /earlier answer|bot says hi|Internal note/.test(lastUserText(c)))).toHaveLength(0);
    // The bot's own reply did not count as a teammate taking over.
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>Thanks, one more thing</p>')] }));
    await firstReply(intercom, conversation);
  });

  it('answers a message with only an attachment with the media notice', async () => {
    const conversation = conversationId();
    await postIntercom(server.url, userReplied({ conversation, parts: [part('', { attachments: [imageAttachment()] })] }));
    const reply = await firstReply(intercom, conversation);
    expect(reply.body.body).toBe(`<p>${variables.MEDIA_NOTICE.default}</p>`);
  });

  it('tells the AI a file came with the text: "please see the file" with invoice.pdf reaches it with "[attachment: invoice.pdf]"', async () => {
    const conversation = conversationId();
    const invoice = { type: 'upload' as const, name: 'invoice.pdf', url: 'https://downloads.intercomcdn.com/i/o/123/invoice.pdf', content_type: 'application/pdf', filesize: 18211 };
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>please see the file</p>', { attachments: [invoice] })] }));
    await firstReply(intercom, conversation);
    expect(ai.calls.map(lastUserText)).toContain('please see the file\n[attachment: invoice.pdf]');
  });

  it('verifies X-Hub-Signature: good → 200, bad or missing → 401; the previous secret works while rotating', async () => {
    const payload = userCreated({ body: '<p>forged?</p>' });
    const body = JSON.stringify(payload);
    const wrong = await postIntercom(server.url, body, { secret: 'not-the-secret' });
    const missing = await postIntercom(server.url, body, { signature: null });
    const garbage = await postIntercom(server.url, body, { signature: 'sha1=zz' });
    expect([wrong.status, missing.status, garbage.status]).toEqual([401, 401, 401]);
    expect(await wrong.json()).toMatchObject({ error: { code: 'bad_signature' } });
    expect(await missing.json()).toMatchObject({ error: { code: 'missing_signature' } });
    await quiet();
    expect(replies(intercom)).toHaveLength(0);
    // Uppercase hex is the same signature.
    const upper = await postIntercom(server.url, body, { signature: signIntercom(DEFAULT_CLIENT_SECRET, body).toUpperCase().replace('SHA1=', 'sha1=') });
    expect(upper.status).toBe(200);
    const old = await postIntercom(server.url, userCreated({ body: '<p>old secret</p>' }), { secret: 'old-intercom-secret-000' });
    expect(old.status).toBe(200);
    await until(() => (replies(intercom).length === 2 ? true : undefined), 'both replies');
  });

  it('answers ping with 200, other topics with 200 and nothing, malformed JSON with 200 and nothing (Intercom would redeliver a 4xx)', async () => {
    expect((await postIntercom(server.url, ping())).status).toBe(200);
    expect((await postIntercom(server.url, otherTopic('contact.created', ''))).status).toBe(200);
    expect((await postIntercom(server.url, otherTopic('conversation.admin.closed'))).status).toBe(200);
    const truncated = await postIntercom(server.url, '{"topic": "conversation.user.replied", ');
    expect(truncated.status).toBe(200);
    expect(await truncated.json()).toMatchObject({ error: { code: 'malformed_body' } });
    expect((await postIntercom(server.url, '[1,2]')).status).toBe(200);
    // Odd shapes a proxy or an API change could produce: dropped, never a 5xx (which would be redelivered for hours).
    const odd = userReplied({ parts: [] });
    (odd.data.item.conversation_parts as Record<string, unknown>).conversation_parts = [null, 42, { author: null, body: 7, attachments: {} }];
    expect((await postIntercom(server.url, odd)).status).toBe(200);
    const noItem = userCreated({ body: '<p>x</p>' });
    (noItem.data as Record<string, unknown>).item = 'nope';
    expect((await postIntercom(server.url, noItem)).status).toBe(200);
    await quiet();
    expect(intercom.calls).toHaveLength(0);
  });

  it('answers a notification delivered twice once, and a part carried by two notifications once; each copy counted as a duplicate', async () => {
    const duplicates = async () => Number(/^parley_duplicates_dropped_total\{platform="intercom"\} (\d+)$/m.exec(await (await fetch(`${new URL(server.url).origin}/metrics`)).text())?.[1] ?? 0);
    const before = await duplicates();
    const conversation = conversationId();
    const notification = userReplied({ conversation, parts: [part('<p>only once please</p>')] });
    const [first, again] = [await postIntercom(server.url, notification), await postIntercom(server.url, notification)];
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(await duplicates()).toBe(before + 1);
    await firstReply(intercom, conversation);
    const samePart = part('<p>the same part twice</p>');
    await postIntercom(server.url, userReplied({ conversation, parts: [samePart] }));
    await postIntercom(server.url, userReplied({ conversation, parts: [samePart] })); // another notification id
    expect(await duplicates()).toBe(before + 2);
    await until(() => (replies(intercom, conversation).length >= 2 ? true : undefined), 'the second reply');
    await quiet();
    expect(replies(intercom, conversation)).toHaveLength(2);
  });

  it('hands off on request: the handoff reply, then the assignment to the team, then silence', async () => {
    const conversation = conversationId();
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>Can I talk to a HUMAN please?</p>')] }));
    const assignment = await until(() => intercom.callsTo('parts')[0], 'the assignment');
    expect(assignment.conversationId).toBe(conversation);
    expect(assignment.body).toEqual({ message_type: 'assignment', type: 'team', admin_id: intercom.adminId, assignee_id: TEAM_ID });
    const handoffReply = replies(intercom, conversation);
    expect(handoffReply).toHaveLength(1);
    expect(handoffReply[0]!.body.body).toBe(`<p>${escapeHtml(variables.HANDOFF_REPLY.default)}</p>`);
    expect(handoffReply[0]!.at).toBeLessThanOrEqual(assignment.at);
    expect(ai.calls.filter((c) => /HUMAN/.test(lastUserText(c)))).toHaveLength(0); // no AI call for it
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>Hello? Anyone?</p>')] }));
    await quiet();
    expect(replies(intercom, conversation)).toHaveLength(1);
  });

  it('stops answering once a teammate has replied', async () => {
    const conversation = conversationId();
    await postIntercom(server.url, userCreated({ conversation, body: '<p>My invoice is wrong</p>' }));
    await firstReply(intercom, conversation);
    await postIntercom(server.url, adminReplied({ conversation, adminId: HUMAN_ADMIN }));
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>Thanks Sam! It is invoice 42.</p>')] }));
    await quiet();
    expect(replies(intercom, conversation)).toHaveLength(1);
    expect(ai.calls.filter((c) => /invoice 42/.test(lastUserText(c)))).toHaveLength(0);
  });

  /** The bot answered the conversation's first message; then `takeover` happens, then the customer writes again. */
  async function customerAfter(takeover: (conversation: string) => Promise<unknown>, text: string): Promise<string> {
    const conversation = conversationId();
    await postIntercom(server.url, userCreated({ conversation, body: '<p>first question</p>' }));
    await firstReply(intercom, conversation);
    await takeover(conversation);
    await postIntercom(server.url, userReplied({ conversation, parts: [part(`<p>${text}</p>`)] }));
    await quiet();
    return conversation;
  }

  it('stops answering once a teammate takes the conversation without replying: assigned to them, or closed with a message', async () => {
    const assigned = await customerAfter((c) => postIntercom(server.url, adminAssigned({ conversation: c, adminId: HUMAN_ADMIN, assignee: HUMAN_ADMIN })), 'are you there, assignee?');
    const closed = await customerAfter((c) => postIntercom(server.url, adminClosed({ conversation: c, adminId: HUMAN_ADMIN, body: '<p>Fixed it, closing.</p>' })), 'one more thing after the close');
    for (const conversation of [assigned, closed]) expect(replies(intercom, conversation)).toHaveLength(1);
    expect(ai.calls.filter((c) => /assignee\?|after the close/.test(lastUserText(c)))).toHaveLength(0);
  });

  it('keeps answering after an assignment to a team or to no one, or a close without a message', async () => {
    const team = await customerAfter((c) => postIntercom(server.url, adminAssigned({ conversation: c, adminId: HUMAN_ADMIN, assignee: '0' })), 'still with the bot 1');
    const closed = await customerAfter((c) => postIntercom(server.url, adminClosed({ conversation: c, adminId: HUMAN_ADMIN })), 'still with the bot 2');
    for (const conversation of [team, closed]) await until(() => replies(intercom, conversation)[1], 'the second answer');
  });

  it("stays out when the customer's message shows a teammate has it (its admin.replied or admin.assigned never came): assigned to a person, a teammate's comment or closing message, a teammate's outbound message", async () => {
    const assigned = conversationId();
    await postIntercom(server.url, userReplied({ conversation: assigned, assignee: HUMAN_ADMIN, parts: [part('<p>shown assigned</p>')] }));
    const commented = conversationId();
    await postIntercom(server.url, userReplied({ conversation: commented, parts: [part('<p>Hi Sam here</p>', { author: adminAuthor(HUMAN_ADMIN) }), part('<p>thanks Sam</p>')] }));
    const closed = conversationId();
    await postIntercom(server.url, userReplied({ conversation: closed, parts: [part('<p>Fixed it, closing.</p>', { author: adminAuthor(HUMAN_ADMIN), partType: 'close' }), part('<p>reopened after the close</p>')] }));
    const outbound = conversationId();
    await postIntercom(server.url, userReplied({ conversation: outbound, startedBy: adminAuthor(HUMAN_ADMIN, 'Sales Rep'), parts: [part('<p>tell me about the offer</p>')] }));
    // A teammate's reply sent with an assignment, or with reopening the conversation, says something too.
    const assignedWithWords = conversationId();
    await postIntercom(server.url, userReplied({ conversation: assignedWithWords, parts: [part('<p>Passing you to billing.</p>', { author: adminAuthor(HUMAN_ADMIN), partType: 'assignment' }), part('<p>ok billing then</p>')] }));
    const reopened = conversationId();
    await postIntercom(server.url, userReplied({ conversation: reopened, parts: [part('<p>Reopening: one more thing.</p>', { author: adminAuthor(HUMAN_ADMIN), partType: 'open' }), part('<p>sure, what is it</p>')] }));
    // The bot's own admin in the same places is no teammate.
    const own = conversationId();
    await postIntercom(server.url, userReplied({ conversation: own, assignee: intercom.adminId, parts: [part('<p>hi</p>', { author: adminAuthor(intercom.adminId) }), part('<p>still the bot</p>')] }));
    await firstReply(intercom, own);
    await quiet();
    for (const conversation of [assigned, commented, closed, outbound, assignedWithWords, reopened]) expect(replies(intercom, conversation)).toHaveLength(0);
    expect(ai.calls.filter((c) => /shown assigned|thanks Sam|after the close|the offer|billing then|what is it/.test(lastUserText(c)))).toHaveLength(0);
  });

  it('messages still queued when a teammate replies cost no AI call', async () => {
    ai.script((call) => ({ text: `echo: ${lastUserText(call)}`, delayMs: 600 }));
    const conversation = conversationId();
    await postIntercom(server.url, userCreated({ conversation, body: '<p>queued one</p>' }));
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>queued two</p>')] }));
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>queued three</p>')] }));
    await until(() => ai.calls.find((c) => /queued one/.test(lastUserText(c))), 'the first AI call');
    await postIntercom(server.url, adminReplied({ conversation, adminId: HUMAN_ADMIN }));
    await until(() => ai.calls.find((c) => /queued one/.test(lastUserText(c)))?.answeredAt, 'the first answer');
    await quiet(800);
    expect(replies(intercom, conversation)).toHaveLength(0);
    expect(ai.calls.filter((c) => /queued (two|three)/.test(lastUserText(c)))).toHaveLength(0);
  });

  it('does not reassign a conversation a teammate took over while the bot was still answering', async () => {
    ai.script((call) => ({ text: `echo: ${lastUserText(call)}`, ...(/slow question/.test(lastUserText(call)) ? { delayMs: 1000 } : {}) }));
    const conversation = conversationId();
    await postIntercom(server.url, userCreated({ conversation, body: '<p>slow question</p>' }));
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>can I talk to a human?</p>')] }));
    await postIntercom(server.url, adminReplied({ conversation, adminId: HUMAN_ADMIN })); // while the AI is still thinking
    await until(() => ai.calls.find((c) => /slow question/.test(lastUserText(c)))?.answeredAt, 'the slow answer');
    await quiet(500);
    expect(replies(intercom, conversation)).toHaveLength(0); // both replies held back
    expect(intercom.callsTo('parts').filter((c) => c.conversationId === conversation)).toHaveLength(0); // and no assignment
  });

  it('does not count an answer held back for a teammate as sent', async () => {
    const metrics = async () => (await fetch(`${new URL(server.url).origin}/metrics`)).text();
    const sentAnswers = (text: string) => Number(/^parley_replies_sent_total\{platform="intercom",kind="answer"\} (\d+)/m.exec(text)?.[1] ?? 0);
    const replied = (text: string) => Number(/^parley_reply_seconds_count\{platform="intercom"\} (\d+)/m.exec(text)?.[1] ?? 0);
    const before = await metrics();
    ai.script((call) => ({ text: `echo: ${lastUserText(call)}`, delayMs: 500 }));
    const conversation = conversationId();
    await postIntercom(server.url, userCreated({ conversation, body: '<p>held back question</p>' }));
    await postIntercom(server.url, adminReplied({ conversation, adminId: HUMAN_ADMIN })); // while the AI is still thinking
    await until(() => ai.calls.find((c) => /held back question/.test(lastUserText(c)))?.answeredAt, 'the answer');
    await quiet(300);
    expect(replies(intercom, conversation)).toHaveLength(0);
    const after = await metrics();
    expect(sentAnswers(after)).toBe(sentAnswers(before));
    expect(replied(after)).toBe(replied(before));
  });

  it('waits out an Intercom 429 (Retry-After) and delivers once', async () => {
    intercom.on('reply', (_call: IntercomCall, n: number) => (n === 0 ? { status: 429, headers: { 'retry-after': '1', 'x-ratelimit-remaining': '0' } } : undefined));
    const conversation = conversationId();
    await postIntercom(server.url, userCreated({ conversation, body: '<p>rate limited</p>' }));
    const tries = await until(() => (replies(intercom, conversation).length === 2 ? replies(intercom, conversation) : undefined), 'the retried reply');
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(950);
    await quiet();
    expect(replies(intercom, conversation)).toHaveLength(2); // one refused, one delivered
  });

  it('waits until X-RateLimit-Reset when a 429 gives no Retry-After', async () => {
    let resetAt = 0; // epoch seconds
    intercom.on('reply', (_call: IntercomCall, n: number) => {
      if (n > 0) return undefined;
      resetAt = Math.floor(Date.now() / 1000) + 1;
      return { status: 429, headers: { 'x-ratelimit-reset': String(resetAt) } };
    });
    const conversation = conversationId();
    await postIntercom(server.url, userCreated({ conversation, body: '<p>reset header</p>' }));
    await until(() => (replies(intercom, conversation).length === 2 ? true : undefined), 'the retried reply', 4000);
    const [limited, retried] = replies(intercom, conversation);
    expect(retried!.body).toEqual(limited!.body); // the same reply, sent again
    // not before the reset (a few ms of slack: timers and Date.now round differently)
    expect(retried!.at).toBeGreaterThanOrEqual(resetAt * 1000 - 5);
  });

  it('waits out a 5xx through the queue (no attempt spent), and dead-letters a 404 at once', async () => {
    intercom.on('reply', (call: IntercomCall, n: number) => (call.conversationId === 'gone' ? { status: 404 } : n === 0 ? { status: 503 } : undefined));
    const conversation = conversationId();
    await postIntercom(server.url, userCreated({ conversation, body: '<p>flaky</p>' }));
    await until(() => (replies(intercom, conversation).length === 2 ? true : undefined), 'the reply after a 503', 15_000); // Intercom down for now: waited 5 s
    await postIntercom(server.url, userCreated({ conversation: 'gone', body: '<p>nobody home</p>' }));
    const deadLetter = async () => (await server.bot.deadLetters.list()).find((d) => d.data.type === 'message' && d.data.message.conversation.id === 'gone');
    for (let tries = 0; !(await deadLetter()) && tries < 100; tries++) await quiet(20);
    expect(await deadLetter()).toMatchObject({ reason: 'intercom_not_found', attempts: 1 });
  });

  it('splits a very long reply on paragraph boundaries, in order', async () => {
    const paragraphs = Array.from({ length: 6 }, (_, i) => `Paragraph ${i + 1}: ${'lorem ipsum dolor sit amet '.repeat(150).trim()}.`);
    ai.script(() => ({ text: paragraphs.join('\n\n') }));
    const conversation = conversationId();
    await postIntercom(server.url, userCreated({ conversation, body: '<p>write a lot</p>' }));
    await until(() => (replies(intercom, conversation).length >= 3 ? true : undefined), 'several parts');
    await quiet();
    const bodies = replies(intercom, conversation).map((c) => String(c.body.body));
    expect(bodies.every((b) => b.length <= 10_500 && b.startsWith('<p>Paragraph'))).toBe(true);
    expect(bodies.join('').replace(/<\/?p>/g, '|')).toBe(paragraphs.map((p) => `|${p}|`).join(''));
  });

  it('simulate: `parley simulate intercom` posts a correctly signed notification the server answers', async () => {
    const conversation = conversationId();
    const code = await simulateIntercom(loadConfig(server.env), { text: 'hello from the CLI', conversation });
    expect(code).toBe(0);
    const reply = await firstReply(intercom, conversation);
    expect(reply.body.body).toBe('<p>echo: hello from the CLI</p>');
  });
});

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

describe('Intercom with its options changed', () => {
  let intercom: FakeIntercom;
  let ai: FakeOpenAi;
  let server: IntercomBot;
  beforeAll(async () => {
    intercom = await startFakeIntercom();
    ai = await startFakeOpenAi();
    server = await startIntercomBot(intercom, ai, {
      INTERCOM_ADMIN_ID: '777',
      INTERCOM_HANDOFF_TEAM_ID: '',
      INTERCOM_HANDOFF_PATTERNS: 'operator please, Mensch',
      INTERCOM_STOP_AFTER_HUMAN_REPLY: 'off',
      INTERCOM_WEBHOOK_PATH: '/hooks/intercom',
    });
  });
  afterAll(async () => {
    await server.close();
    await intercom.close();
    await ai.close();
  });

  it('replies as INTERCOM_ADMIN_ID without asking GET /me, at INTERCOM_WEBHOOK_PATH', async () => {
    expect(server.url.endsWith('/hooks/intercom')).toBe(true);
    const conversation = conversationId();
    await postIntercom(server.url, userCreated({ conversation, body: '<p>hi</p>' }));
    const reply = await firstReply(intercom, conversation);
    expect(reply.body.admin_id).toBe('777');
    expect(intercom.callsTo('me')).toHaveLength(0);
  });

  it('keeps answering after a teammate replied when INTERCOM_STOP_AFTER_HUMAN_REPLY=off', async () => {
    const conversation = conversationId();
    await postIntercom(server.url, adminReplied({ conversation, adminId: HUMAN_ADMIN }));
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>still there, bot?</p>')] }));
    const reply = await firstReply(intercom, conversation);
    expect(reply.body.body).toContain('echo: still there, bot?');
    expect(intercom.callsTo('parts').filter((c) => c.conversationId === conversation)).toHaveLength(0); // no handoff either
  });

  const handedOff = async (conversation: string) => {
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>Ich möchte einen MENSCH sprechen</p>')] }));
    await firstReply(intercom, conversation);
    await until(() => intercom.callsTo('conversation').find((c) => c.conversationId === conversation), 'the conversation read');
    await quiet();
    return intercom.callsTo('parts').filter((c) => c.conversationId === conversation);
  };

  it('hands off on its own phrases without a team: no assignment, then silence', async () => {
    const conversation = conversationId();
    expect(await handedOff(conversation)).toHaveLength(0); // assigned to nobody: left so
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>a human, maybe?</p>')] }));
    await quiet();
    expect(replies(intercom, conversation)).toHaveLength(1);
  });

  it('without a team, takes a conversation assigned to the bot\'s own admin out of its inbox: unassigned, through INTERCOM_API_URL', async () => {
    const conversation = conversationId();
    intercom.assign(conversation, { admin_assignee_id: 777 });
    let limited = false; // the read is rate limited once: waited out, as the assignment's 429s are
    intercom.on('conversation', (call) => (call.conversationId === conversation && !limited ? ((limited = true), { status: 429, headers: { 'retry-after': '1' } }) : undefined));
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>Ich möchte einen MENSCH sprechen</p>')] }));
    await until(() => intercom.callsTo('parts').find((c) => c.conversationId === conversation), 'the unassignment', 4000);
    await quiet();
    const [unassignment, ...more] = intercom.callsTo('parts').filter((c) => c.conversationId === conversation);
    expect(more).toEqual([]);
    expect(unassignment!.body).toEqual({ message_type: 'assignment', type: 'admin', admin_id: '777', assignee_id: '0' });
    expect(unassignment!.at).toBeGreaterThanOrEqual(replies(intercom, conversation)[0]!.at);
    const read = intercom.callsTo('conversation').filter((c) => c.conversationId === conversation);
    expect(read.map((c) => [c.method, c.path, c.token])).toEqual(Array(2).fill(['GET', `/conversations/${conversation}`, 'dG9rOnBhcmxleS10ZXN0LXRva2Vu']));
  });

  it('without a team, leaves a conversation a person or a team is assigned to as it is', async () => {
    const withPerson = conversationId();
    intercom.assign(withPerson, { admin_assignee_id: Number(HUMAN_ADMIN) });
    expect(await handedOff(withPerson)).toHaveLength(0);
    const withTeam = conversationId();
    intercom.assign(withTeam, { team_assignee_id: TEAM_ID });
    expect(await handedOff(withTeam)).toHaveLength(0);
  });
});

describe('Intercom in MODE=direct', () => {
  let intercom: FakeIntercom;
  let ai: FakeOpenAi;
  let server: IntercomBot;
  beforeAll(async () => {
    intercom = await startFakeIntercom();
    ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call)}`, delayMs: 1500 }));
    server = await startIntercomBot(intercom, ai, { MODE: 'direct' });
  });
  afterAll(async () => {
    await server.close();
    await intercom.close();
    await ai.close();
  });

  it('answers the webhook as soon as the message is taken, before the AI answers, and replies once after', async () => {
    const conversation = conversationId();
    const res = await postIntercom(server.url, userCreated({ conversation, body: '<p>a slow question</p>' }));
    expect(res.status).toBe(200);
    // Intercom has its answer while the AI is still working on the question (1.5 s).
    expect(replies(intercom, conversation)).toHaveLength(0);
    expect(ai.calls.length).toBeLessThanOrEqual(1);
    const reply = await firstReply(intercom, conversation);
    expect(reply.body.body).toContain('echo: a slow question');
    await quiet();
    expect(replies(intercom, conversation)).toHaveLength(1);
  });

  it('a handoff whose assignment fails once (a 500) is retried by the queue: assigned, the handoff reply posted once', async () => {
    const conversation = conversationId();
    intercom.on('parts', (call, n) => (n === 0 && call.conversationId === conversation ? { status: 500 } : undefined));
    await postIntercom(server.url, userReplied({ conversation, parts: [part('<p>Can I talk to a human please?</p>')] }));
    await until(() => (intercom.callsTo('parts').filter((c) => c.conversationId === conversation).length >= 2 ? true : undefined), 'the assignment to be tried again', 15_000);
    await quiet();
    const assignments = intercom.callsTo('parts').filter((c) => c.conversationId === conversation);
    expect(assignments).toHaveLength(2);
    expect(assignments[1]!.body).toMatchObject({ message_type: 'assignment', type: 'team' });
    expect(replies(intercom, conversation)).toHaveLength(1);
  }, 20_000);
});

describe('Intercom refusing the token at start', () => {
  it('reports the failed start with the fix to check INTERCOM_ACCESS_TOKEN (a 401 is the token, not an outage)', async () => {
    const intercom = await startFakeIntercom();
    const ai = await startFakeOpenAi();
    intercom.on('me', () => ({ status: 401, body: { type: 'error.list', errors: [{ code: 'unauthorized', message: 'Access Token Invalid' }] } }));
    const allEnv = { ...testEnv, OPENAI_BASE_URL: ai.url, INTERCOM_ACCESS_TOKEN: 'dG9rOnJldm9rZWQtdG9rZW4', INTERCOM_CLIENT_SECRET: DEFAULT_CLIENT_SECRET, INTERCOM_API_URL: intercom.url };
    const bot = createBot({ config: loadConfig(allEnv), adapters: [intercomAdapter(intercomConfigFromEnv(allEnv)!)] });
    try {
      const server = await bot.listen(0, '127.0.0.1');
      const readyz = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
      const state = await until(async () => {
        const body = (await (await fetch(readyz)).json()) as { adapters: { intercom?: string } };
        return body.adapters.intercom?.startsWith('failed: ') ? body.adapters.intercom : undefined;
      }, 'Intercom to report a failed start');
      expect(state).toContain('Fix: check INTERCOM_ACCESS_TOKEN');
      expect(state).not.toContain('parley tries again');
    } finally {
      await bot.close();
      await intercom.close();
      await ai.close();
    }
  });
});
