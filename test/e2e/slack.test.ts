import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../fakes/slack-api.js';
import {
  BOT_USER_ID,
  CHANNEL_ID,
  DM_CHANNEL_ID,
  appMention,
  assistantThreadStarted,
  blockActions,
  botMessage,
  channelMessage,
  directMessage,
  interactionForm,
  messageChanged,
  postSlack,
  signSlack,
  slashCommand,
  TEAM_ID,
  urlVerification,
  viewSubmission,
} from '../helpers/slack-events.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';

const posts = (slack: FakeSlack) => slack.callsTo('chat.postMessage');
const quiet = (ms = 200) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Slack, end to end (real server; Slack and the AI faked over HTTP)', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    server = await startSlackBot(slack, ai);
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
    await ai.close();
  });
  afterEach(() => slack.reset());

  it('looks up the bot user once at start', () => {
    expect(slack.calls.length === 0 || slack.callsTo('auth.test').length <= 1).toBe(true);
  });

  it('answers a mention in the thread of the mention, without the mention in the AI prompt', async () => {
    const event = appMention({ text: 'what is parley?' });
    const res = await postSlack(server.url, event);
    expect(res.status).toBe(200);
    const [post] = await until(() => (posts(slack).length ? posts(slack) : undefined), 'a reply');
    expect(post!.args).toMatchObject({ channel: CHANNEL_ID, thread_ts: event.event.ts, text: 'echo: what is parley?' });
    expect(lastUserText(ai.calls.at(-1)!)).toBe('what is parley?');
    expect(slack.callsTo('auth.test')).toHaveLength(0); // cached from start-up
  });

  it('posts an answer holding half an emoji (a lone surrogate) once, with U+FFFD in its place, and asks the AI once', async () => {
    const calls = ai.calls.length;
    await postSlack(server.url, appMention({ text: 'broken emoji \ud83d' }));
    const [post] = await until(() => (posts(slack).length ? posts(slack) : undefined), 'a reply');
    expect(post!.args.text).toBe('echo: broken emoji \ufffd');
    await quiet();
    expect(posts(slack)).toHaveLength(1);
    expect(ai.calls.length - calls).toBe(1);
  });

  it('refuses an event whose channel or thread id holds half an emoji (200 invalid_payload), before any AI call', async () => {
    const calls = ai.calls.length;
    const before = posts(slack).length;
    for (const event of [directMessage({ text: 'bad channel', channel: 'D\ud800' }), appMention({ text: 'bad thread', threadTs: '1.\ud800' })]) {
      const res = await postSlack(server.url, event);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_payload' } });
    }
    await quiet();
    expect(ai.calls.length - calls).toBe(0);
    expect(posts(slack).length - before).toBe(0);
  });

  it('refuses a click or a command whose workspace id names a built-in object property (400 invalid_payload, not a failed listener)', async () => {
    for (const team of ['constructor', '__proto__', 'toString']) {
      const click = blockActions({ team });
      const clicked = await postSlack(server.url, interactionForm(click));
      expect(clicked.status).toBe(400);
      expect(await clicked.json()).toMatchObject({ error: { code: 'invalid_payload' } });
      const command = await postSlack(server.url, slashCommand({ command: '/ask', text: 'hi', team }));
      expect(command.status).toBe(400);
      expect(await command.json()).toMatchObject({ error: { code: 'invalid_payload' } });
      // A view's own installed-team id, which Bolt reads first on view_submission.
      const view = viewSubmission();
      (view.view as Record<string, unknown>).app_installed_team_id = team;
      const submitted = await postSlack(server.url, interactionForm(view));
      expect(submitted.status).toBe(400);
      expect(await submitted.json()).toMatchObject({ error: { code: 'invalid_payload' } });
    }
  });

  it('answers a direct message in the DM', async () => {
    const event = directMessage({ text: 'hello in private' });
    await postSlack(server.url, event);
    const [post] = await until(() => (posts(slack).length ? posts(slack) : undefined), 'a DM reply');
    expect(post!.args.channel).toBe(DM_CHANNEL_ID);
    expect(post!.args.thread_ts).toBeUndefined();
    expect(post!.args.text).toBe('echo: hello in private');
  });

  it('answers a follow-up in a thread it has answered in, without a new mention', async () => {
    const mention = appMention({ text: 'start a thread' });
    await postSlack(server.url, mention);
    await until(() => posts(slack)[0], 'the first reply');
    await postSlack(server.url, channelMessage({ text: 'and a follow-up', threadTs: mention.event.ts }));
    const replies = await until(() => (posts(slack).length === 2 ? posts(slack) : undefined), 'the follow-up reply');
    expect(replies[1]!.args).toMatchObject({ thread_ts: mention.event.ts, text: 'echo: and a follow-up' });
    // A thread the bot never answered in stays quiet.
    await postSlack(server.url, channelMessage({ text: 'unrelated chatter', threadTs: '1600000000.000001' }));
    await quiet();
    expect(posts(slack)).toHaveLength(2);
  });

  it('answers a follow-up sent while the AI is still answering the mention, after it, in order', async () => {
    const calls = ai.calls.length;
    ai.script((call) => ({ text: `echo: ${lastUserText(call)}`, delayMs: lastUserText(call) === 'a slow question' ? 700 : 0 }));
    try {
      const mention = appMention({ text: 'a slow question' });
      await postSlack(server.url, mention);
      await until(() => ai.calls.length > calls || undefined, 'the AI asked about the mention');
      expect(posts(slack)).toHaveLength(0); // not answered yet
      await postSlack(server.url, channelMessage({ text: 'oh, and a second line', threadTs: mention.event.ts }));
      const replies = await until(() => (posts(slack).length === 2 ? posts(slack) : undefined), 'both replies');
      expect(replies.map((r) => [r.args.thread_ts, r.args.text])).toEqual([
        [mention.event.ts, 'echo: a slow question'],
        [mention.event.ts, 'echo: oh, and a second line'],
      ]);
    } finally {
      ai.script((call) => ({ text: `echo: ${lastUserText(call)}` }));
    }
  });

  it('answers a redelivery (X-Slack-Retry-Num) once', async () => {
    const event = appMention({ text: 'only once please' });
    const first = await postSlack(server.url, event);
    const retry = await postSlack(server.url, event, { retryNum: 1 });
    expect([first.status, retry.status]).toEqual([200, 200]);
    await until(() => posts(slack)[0], 'the reply');
    await quiet();
    expect(posts(slack)).toHaveLength(1);
  });

  it('ignores its own messages, other bots, edits, and the plain-message copy of a mention', async () => {
    await postSlack(server.url, botMessage({ botId: 'BBOT', text: 'my own reply' }));
    await postSlack(server.url, botMessage({ botId: 'BOTHER', text: 'another bot' }));
    await postSlack(server.url, messageChanged({ text: 'edited text' }));
    await postSlack(server.url, channelMessage({ text: `<@${BOT_USER_ID}> copy of a mention` }));
    await quiet(300);
    expect(posts(slack)).toHaveLength(0);
    expect(ai.calls.filter((c) => /my own reply|another bot|edited text|copy of a mention/.test(lastUserText(c)))).toHaveLength(0);
  });

  it('refuses bad signatures, stale and future timestamps with 401', async () => {
    const body = JSON.stringify(appMention({ text: 'forged' }));
    const now = Math.floor(Date.now() / 1000);
    const wrong = await postSlack(server.url, body, { contentType: 'application/json', secret: 'not-the-secret' });
    const stale = await postSlack(server.url, body, { contentType: 'application/json', timestamp: now - 6 * 60 });
    const future = await postSlack(server.url, body, { contentType: 'application/json', timestamp: now + 6 * 60 });
    const unsigned = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect([wrong.status, stale.status, future.status, unsigned.status]).toEqual([401, 401, 401, 401]);
    expect(await wrong.json()).toMatchObject({ error: { code: 'bad_signature' } });
    expect(JSON.stringify(await future.json())).not.toContain('forged');
    await quiet();
    expect(posts(slack)).toHaveLength(0);
  });

  it('accepts the previous signing secret while it is being rotated', async () => {
    const res = await postSlack(server.url, appMention({ text: 'old secret' }), { secret: 'old-secret-000' });
    expect(res.status).toBe(200);
    await until(() => posts(slack)[0], 'the reply');
  });

  it('answers url_verification only when signed', async () => {
    const signed = await postSlack(server.url, urlVerification('challenge-abc'));
    expect(await signed.json()).toEqual({ challenge: 'challenge-abc' });
    const body = JSON.stringify(urlVerification('challenge-abc'));
    const unsigned = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...signSlack('wrong', body) }, body });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.text()).not.toContain('challenge-abc');
  });

  it('splits a long reply into ordered messages Slack accepts', async () => {
    const paragraphs = Array.from({ length: 12 }, (_, i) => `Paragraph ${i + 1}: ${'lorem ipsum dolor sit amet '.repeat(25).trim()}.`);
    ai.script(() => ({ text: paragraphs.join('\n\n') }));
    try {
      await postSlack(server.url, appMention({ text: 'write a lot' }));
      await until(() => (posts(slack).length >= 3 ? posts(slack) : undefined), 'several parts');
      await quiet();
      const texts = posts(slack).map((p) => String(p.args.text));
      expect(texts.every((t) => t.length <= 4000)).toBe(true);
      expect(texts.join('\n\n').replace(/\s+/g, ' ')).toBe(paragraphs.join('\n\n').replace(/\s+/g, ' '));
    } finally {
      ai.script((call) => ({ text: `echo: ${lastUserText(call)}` }));
    }
  });

  it('waits out a Slack 429 and delivers once', async () => {
    slack.on('chat.postMessage', (_call: SlackCall, n: number) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } } : undefined));
    await postSlack(server.url, appMention({ text: 'rate limited' }));
    const delivered = await until(() => (posts(slack).length === 2 ? posts(slack) : undefined), 'the retried post');
    expect(delivered[1]!.at - delivered[0]!.at).toBeGreaterThanOrEqual(950);
    await quiet(300);
    expect(posts(slack)).toHaveLength(2); // one refused, one delivered
  });

  it('sets suggested prompts when an assistant thread starts', async () => {
    const event = assistantThreadStarted({});
    expect((await postSlack(server.url, event)).status).toBe(200);
    const [call] = await until(() => (slack.callsTo('assistant.threads.setSuggestedPrompts').length ? slack.callsTo('assistant.threads.setSuggestedPrompts') : undefined), 'suggested prompts');
    expect(call!.args.prompts).toEqual([
      { title: 'Summarise this channel', message: 'Summarise this channel' },
      { title: 'Draft a reply', message: 'Draft a reply' },
    ]);
  });

  it('shows "is thinking…" while the AI works, and leaves clearing it to Slack, which does so when the reply is posted', async () => {
    await postSlack(server.url, appMention({ text: 'think about it' }));
    await until(() => posts(slack)[0], 'the reply');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const statuses = slack.callsTo('assistant.threads.setStatus');
    // No "clear" call of our own: one platform call per message saved.
    expect(statuses.map((c) => c.args.status)).toEqual(['is thinking…']);
    expect(statuses[0]!.at).toBeLessThanOrEqual(posts(slack)[0]!.at);
  });

  it('converts the AI markdown to Slack mrkdwn', async () => {
    ai.script(() => ({ text: '**Bold** and [a link](https://example.com)' }));
    try {
      await postSlack(server.url, appMention({ text: 'format it' }));
      const [post] = await until(() => (posts(slack).length ? posts(slack) : undefined), 'the reply');
      expect(post!.args.text).toBe('*Bold* and <https://example.com|a link>');
    } finally {
      ai.script((call) => ({ text: `echo: ${lastUserText(call)}` }));
    }
  });
});

describe('Slack next to the developer\'s own Bolt listeners', () => {
  it('a slash command registered on the same App still works', async () => {
    const slack = await startFakeSlack();
    const ai = await startFakeOpenAi();
    const server = await startSlackBot(slack, ai, {}, (app) => {
      app.command('/weather', async ({ command, ack }) => {
        await ack({ response_type: 'ephemeral', text: `Sunny in ${command.text}` });
      });
      // Acknowledged after the listener returned (a callback it does not await), within Slack's 3 s, as Bolt allows.
      app.command('/later', async ({ ack }) => {
        setTimeout(() => void ack({ response_type: 'ephemeral', text: 'acked later' }), 200);
      });
    });
    try {
      const res = await postSlack(server.url, slashCommand({ command: '/weather', text: 'Lisbon' }));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ response_type: 'ephemeral', text: 'Sunny in Lisbon' });
      const later = await postSlack(server.url, slashCommand({ command: '/later', text: 'x' }));
      expect(later.status).toBe(200);
      expect(await later.json()).toEqual({ response_type: 'ephemeral', text: 'acked later' });
      const unknown = await postSlack(server.url, slashCommand({ command: '/nobody', text: 'x' }));
      expect(unknown.status).toBe(404);
    } finally {
      await server.close();
      await slack.close();
      await ai.close();
    }
  });

  it('streams the reply with chat.startStream/appendStream/stopStream when SLACK_STREAMING=on', async () => {
    const slack = await startFakeSlack();
    const ai = await startFakeOpenAi();
    const server = await startSlackBot(slack, ai, { SLACK_STREAMING: 'on' });
    try {
      await postSlack(server.url, appMention({ text: 'stream please' }));
      await until(() => slack.callsTo('chat.stopStream')[0], 'the stream to stop');
      const start = slack.callsTo('chat.startStream')[0]!;
      expect(start.args).toMatchObject({ channel: CHANNEL_ID, recipient_user_id: expect.any(String) });
      // The WebClient's streamer sends text as markdown_text or as markdown_text chunks.
      const textOf = (c: SlackCall) =>
        String(c.args.markdown_text ?? '') + ((c.args.chunks as { text?: string }[] | undefined) ?? []).map((chunk) => chunk.text ?? '').join('');
      const streamed = [start, ...slack.callsTo('chat.appendStream'), ...slack.callsTo('chat.stopStream')].map(textOf).join('');
      expect(streamed).toBe('echo: stream please');
      expect(posts(slack)).toHaveLength(0);
    } finally {
      await server.close();
      await slack.close();
      await ai.close();
    }
  });

  it("streams to a person from another organisation in a Slack Connect channel for that person's team (recipient_team_id)", async () => {
    const slack = await startFakeSlack();
    const ai = await startFakeOpenAi();
    const server = await startSlackBot(slack, ai, { SLACK_STREAMING: 'on' });
    try {
      // Slack's envelope in a shared channel: the installation's workspace in authorizations, the writer's own team on the event.
      const partner = appMention({ text: 'from the partner', user: 'U0PARTNER' });
      partner.team_id = 'T0PARTNER';
      partner.is_ext_shared_channel = true;
      Object.assign(partner.event, { team: 'T0PARTNER', user_team: 'T0PARTNER', source_team: 'T0PARTNER' });
      await postSlack(server.url, partner);
      await until(() => slack.callsTo('chat.stopStream')[0], "the partner's stream to stop");
      await postSlack(server.url, appMention({ text: 'from the host' }));
      await until(() => slack.callsTo('chat.stopStream')[1], "the host's stream to stop");
      expect(slack.callsTo('chat.startStream').map((c) => [c.args.recipient_user_id, c.args.recipient_team_id])).toEqual([
        ['U0PARTNER', 'T0PARTNER'],
        [expect.any(String), TEAM_ID],
      ]);
    } finally {
      await server.close();
      await slack.close();
      await ai.close();
    }
  });

  it('falls back to one message when streaming is not available', async () => {
    const slack = await startFakeSlack();
    const ai = await startFakeOpenAi();
    slack.on('chat.startStream', () => ({ body: { ok: false, error: 'unknown_method' } }));
    const server = await startSlackBot(slack, ai, { SLACK_STREAMING: 'on' });
    try {
      await postSlack(server.url, appMention({ text: 'stream or not' }));
      const [post] = await until(() => (posts(slack).length ? posts(slack) : undefined), 'the fallback message');
      expect(post!.args.text).toBe('echo: stream or not');
    } finally {
      await server.close();
      await slack.close();
      await ai.close();
    }
  });
});
