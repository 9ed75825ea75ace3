/**
 * The variety of events Slack really sends, signed as Slack signs them: parley answers the ones a
 * person expects an assistant to answer (mentions, DMs, follow-ups in its threads, files), each
 * once, and acknowledges everything else quietly (200, no reply, no AI call, nothing above debug).
 */
import { App } from '@slack/bolt';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { ParleyReceiver, slackAdapter, slackConfigFromEnv } from '../../adapters/slack/index.js';
import { createBot, loadConfig } from '../../src/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import {
  BOT_USER_ID,
  CHANNEL_ID,
  DM_CHANNEL_ID,
  TEAM_ID,
  USER_ID,
  appMention,
  botMessage,
  channelMessage,
  directMessage,
  messageChanged,
  nextEventId,
  nextSlackTs,
  postSlack,
  urlVerification,
  type SlackEventEnvelope,
} from '../helpers/slack-events.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

const quiet = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

/** `envelope` with its event's fields replaced (and others added). */
function withEvent(envelope: SlackEventEnvelope, fields: Record<string, unknown>): SlackEventEnvelope {
  return { ...envelope, event: { ...envelope.event, ...fields } };
}

describe('Slack: the events a workspace really sends', () => {
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  const lines: string[] = [];
  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    server = await startSlackBot(slack, ai, {}, undefined, { bot: { logger } });
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
    await ai.close();
  });
  afterEach(() => {
    slack.reset();
    lines.length = 0;
  });

  const posts = () => slack.callsTo('chat.postMessage');
  /** Info and above: what an operator would see, but each request's own line (at info for every request, README "Logs"). */
  const loud = () => lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level >= 30 && line.msg !== 'request');

  async function expectIgnored(events: SlackEventEnvelope[]): Promise<void> {
    const asked = ai.calls.length;
    for (const event of events) {
      const res = await postSlack(server.url, event);
      expect(res.status, JSON.stringify(event.event)).toBe(200);
    }
    await quiet();
    expect(posts().map((p) => p.args.text)).toEqual([]);
    expect(ai.calls.slice(asked).map(lastUserText)).toEqual([]);
    expect(loud()).toEqual([]);
  }

  it('ignores edits, deletions, joins, huddles, canvases, bots (ours too) and other subtypes, quietly', async () => {
    const ts = nextSlackTs();
    await expectIgnored([
      messageChanged({ text: `<@${BOT_USER_ID}> edited in` }),
      messageChanged({ text: 'edited dm', channelType: 'im' }),
      withEvent(channelMessage({ text: '' }), { subtype: 'message_deleted', hidden: true, deleted_ts: ts, user: undefined, text: undefined }),
      botMessage({ botId: 'BOTHER', text: `<@${BOT_USER_ID}> hello from another bot` }),
      botMessage({ botId: 'BOTHER', text: 'dm from another bot', channelType: 'im' }),
      // parley's own reply, as Slack echoes it (an app posting with its bot token: no subtype).
      botMessage({ botId: 'BBOT', user: BOT_USER_ID, subtype: null, text: 'my own answer', channelType: 'im' }),
      // Another AI app in the channel answering in a thread the bot is in: no loop.
      { ...botMessage({ botId: 'BOTHER', user: 'U0OTHERBOT', subtype: null, text: `<@${BOT_USER_ID}> what do you think?` }), event: { ...appMention({ text: 'x' }).event, user: 'U0OTHERBOT', bot_id: 'BOTHER', text: `<@${BOT_USER_ID}> what do you think?`, bot_profile: { id: 'BOTHER', app_id: 'A0OTHER', name: 'other ai' } } },
      withEvent(channelMessage({ text: `<@${BOT_USER_ID}> has joined the channel` }), { subtype: 'channel_join', user: BOT_USER_ID }),
      withEvent(channelMessage({ text: `<@${USER_ID}> has joined the channel` }), { subtype: 'channel_join' }),
      withEvent(channelMessage({ text: '' }), { subtype: 'huddle_thread', room: { id: 'R0HUDDLE' } }),
      withEvent(channelMessage({ text: 'canvas updated' }), { subtype: 'channel_canvas_updated' }),
      withEvent(directMessage({ text: '' }), { subtype: 'assistant_app_thread', thread_ts: nextSlackTs() }),
      withEvent(channelMessage({ text: 'set the topic' }), { subtype: 'channel_topic' }),
      withEvent(directMessage({ text: 'hidden' }), { hidden: true, subtype: 'message_replied' }),
      // A mention that is only the mention: nothing to answer.
      appMention({ text: `<@${BOT_USER_ID}>` }),
      // A plain channel message, in no thread of the bot's.
      channelMessage({ text: 'chatter' }),
      channelMessage({ text: 'group chatter', channelType: 'mpim', channel: 'G0MPIM' }),
      channelMessage({ text: 'private chatter', channelType: 'group', channel: 'G0PRIVATE' }),
    ]);
  });

  it('acknowledges app_uninstalled, tokens_revoked and url_verification quietly', async () => {
    const uninstalled = withEvent(channelMessage({ text: '' }), { type: 'app_uninstalled' });
    const revoked = withEvent(channelMessage({ text: '' }), { type: 'tokens_revoked', tokens: { oauth: [USER_ID] } });
    await expectIgnored([uninstalled, revoked]);
    const res = await postSlack(server.url, urlVerification('abc'));
    expect(await res.json()).toEqual({ challenge: 'abc' });
  });

  it('answers a mention in a DM once, though Slack may send it as the DM message and as app_mention', async () => {
    const dm = directMessage({ text: `<@${BOT_USER_ID}> hi there` });
    const mention = appMention({ text: 'hi there', channel: DM_CHANNEL_ID, ts: dm.event.ts });
    await postSlack(server.url, dm);
    await postSlack(server.url, mention);
    await until(() => posts()[0], 'a reply');
    await quiet();
    expect(posts().map((p) => [p.args.text, p.args.thread_ts])).toEqual([['echo: hi there', undefined]]);
  });

  it('answers a mention in a channel once: app_mention, not its channel-message copy; at top level and in a thread', async () => {
    for (const threadTs of [undefined, nextSlackTs()]) {
      slack.reset();
      const mention = appMention({ text: 'top or thread?', ...(threadTs ? { threadTs } : {}) });
      const copy = withEvent(channelMessage({ text: mention.event.text! }), { ts: mention.event.ts, ...(threadTs ? { thread_ts: threadTs } : {}) });
      await postSlack(server.url, copy);
      await postSlack(server.url, mention);
      await until(() => posts()[0], 'a reply');
      await quiet();
      expect(posts().map((p) => [p.args.text, p.args.thread_ts])).toEqual([['echo: top or thread?', threadTs ?? mention.event.ts]]);
    }
  });

  it("answers the bot's labelled mention (<@UBOT|name>) once, without it, and a DM posted with rich_text blocks only", async () => {
    const threadTs = nextSlackTs();
    const mention = appMention({ text: `<@${BOT_USER_ID}|parley> labelled?`, threadTs });
    await postSlack(server.url, mention);
    await until(() => posts()[0], 'a reply');
    // Its channel-message copy, now in a thread of the bot's: not a follow-up to answer again.
    await postSlack(server.url, withEvent(channelMessage({ text: mention.event.text!, threadTs }), { ts: mention.event.ts }));
    const blocks = [{ type: 'rich_text', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'only ' }, { type: 'text', text: 'blocks', style: { bold: true } }] }] }];
    await postSlack(server.url, withEvent(directMessage({ text: '' }), { blocks }));
    await until(() => (posts().length === 2 ? posts() : undefined), 'two replies');
    await quiet();
    expect(posts().map((p) => p.args.text)).toEqual(['echo: labelled?', 'echo: only blocks']);
  });

  it('answers files in a DM, with and without text; a thread_broadcast in its thread; a redelivery (http_timeout) once', async () => {
    const file = { id: 'F0FILE', name: 'report.pdf', mimetype: 'application/pdf', url_private: 'https://files.slack.com/files-pri/T-F/report.pdf' };
    await postSlack(server.url, withEvent(directMessage({ text: 'see this' }), { subtype: 'file_share', files: [file] }));
    await postSlack(server.url, withEvent(directMessage({ text: '' }), { subtype: 'file_share', files: [file] }));
    await until(() => (posts().length === 2 ? posts() : undefined), 'two replies');
    // The file alone gets MEDIA_NOTICE (no AI call); with text, the AI is told of the file.
    expect(lastUserText(ai.calls.at(-1)!)).toBe('see this\n[attachment: report.pdf]');

    slack.reset();
    const mention = appMention({ text: 'start' });
    await postSlack(server.url, mention);
    await until(() => posts()[0], 'the first reply');
    await postSlack(server.url, withEvent(channelMessage({ text: 'also to the channel', threadTs: mention.event.ts }), { subtype: 'thread_broadcast' }));
    const retried = channelMessage({ text: 'retried follow-up', threadTs: mention.event.ts });
    await postSlack(server.url, retried, { retryNum: 1, retryReason: 'http_timeout' });
    await postSlack(server.url, retried, { retryNum: 2, retryReason: 'http_timeout' });
    await until(() => (posts().length === 3 ? posts() : undefined), 'three replies');
    await quiet();
    expect(posts().map((p) => p.args.text)).toEqual(['echo: start', 'echo: also to the channel', 'echo: retried follow-up']);
  });

  it('answers in a Slack Connect channel and an Enterprise Grid org-wide install with the installation’s workspace', async () => {
    const connect = appMention({ text: 'from another org', user: 'U0PARTNER' });
    connect.team_id = 'T0PARTNER';
    connect.is_ext_shared_channel = true;
    (connect.event as Record<string, unknown>).team = 'T0PARTNER';
    (connect.event as Record<string, unknown>).user_team = 'T0PARTNER';
    await postSlack(server.url, connect);
    const grid = appMention({ text: 'from the grid' });
    const gridBody = { ...grid, enterprise_id: 'E0GRID', authorizations: [{ enterprise_id: 'E0GRID', team_id: null, user_id: BOT_USER_ID, is_bot: true, is_enterprise_install: true }, { enterprise_id: 'E0GRID', team_id: TEAM_ID, user_id: 'U0SOMEONE', is_bot: false, is_enterprise_install: false }] };
    await postSlack(server.url, gridBody);
    await until(() => (posts().length === 2 ? posts() : undefined), 'two replies');
    expect(posts().map((p) => p.args.text).sort()).toEqual(['echo: from another org', 'echo: from the grid']);
    expect(posts().every((p) => p.args.channel === CHANNEL_ID)).toBe(true);
  });

  it('answers a /me message (me_message) in a DM and as a thread follow-up, each once', async () => {
    await postSlack(server.url, withEvent(directMessage({ text: 'wonders what 2+2 is' }), { subtype: 'me_message' }));
    await until(() => posts()[0], 'a reply');
    const mention = appMention({ text: 'start' });
    await postSlack(server.url, mention);
    await until(() => (posts().length === 2 ? posts() : undefined), 'the mention answered');
    await postSlack(server.url, withEvent(channelMessage({ text: 'shrugs', threadTs: mention.event.ts }), { subtype: 'me_message' }));
    await until(() => (posts().length === 3 ? posts() : undefined), 'the follow-up answered');
    await quiet();
    expect(posts().map((p) => p.args.text)).toEqual(['echo: wonders what 2+2 is', 'echo: start', 'echo: shrugs']);
  });

  it("does not answer Slackbot (USLACKBOT, no bot_id) in a thread the bot answered; a person's follow-up after it is", async () => {
    const mention = appMention({ text: 'start' });
    await postSlack(server.url, mention);
    await until(() => posts()[0], 'the mention answered');
    // A Slackbot response (a custom response to a keyword, or a reminder) as Slack sends it: a plain message, Slackbot's user, no bot_id.
    const slackbot = withEvent(channelMessage({ text: 'Reminder: stand-up', threadTs: mention.event.ts, user: 'USLACKBOT' }), { client_msg_id: undefined });
    await postSlack(server.url, slackbot);
    // The same conversation answers in order: had Slackbot's been taken, its reply would come before this one's.
    await postSlack(server.url, channelMessage({ text: 'a person follows up', threadTs: mention.event.ts }));
    await until(() => posts().find((p) => p.args.text === 'echo: a person follows up'), "the person's follow-up answered");
    expect(posts().map((p) => p.args.text)).toEqual(['echo: start', 'echo: a person follows up']);
    expect(ai.calls.map(lastUserText)).not.toContain('Reminder: stand-up');
  });

  it('does not answer an edited mention again', async () => {
    const first = appMention({ text: 'what is 2+2' });
    await postSlack(server.url, first);
    await until(() => posts()[0], 'a reply');
    await postSlack(server.url, withEvent(appMention({ text: 'what is 2+3', ts: first.event.ts, eventId: nextEventId() }), { edited: { user: USER_ID, ts: nextSlackTs() } }));
    await quiet();
    expect(posts()).toHaveLength(1);
  });
});

describe("Slack: the event's authorization is a person's (an app with user scopes)", () => {
  it("answers the person who installed the app: Slack's authorizations[0] names them, not the bot (is_bot false)", async () => {
    const slack = await startFakeSlack();
    const ai = await startFakeOpenAi();
    const env = { ...testEnv, OPENAI_BASE_URL: ai.url, SLACK_BOT_TOKEN: 'xoxb-dev', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: slack.url };
    // A developer's App: parley reads the bot user from each event's authorizations first.
    const app = new App({ token: 'xoxb-dev', receiver: new ParleyReceiver(), deferInitialization: true, clientOptions: { slackApiUrl: slack.url } });
    const bot = createBot({ config: loadConfig(env), adapters: [slackAdapter({ ...slackConfigFromEnv(env)!, app })] });
    try {
      const server = await bot.listen(0, '127.0.0.1');
      await bot.ready;
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
      const asPerson = (envelope: SlackEventEnvelope) => ({ ...envelope, authorizations: [{ enterprise_id: null, team_id: TEAM_ID, user_id: USER_ID, is_bot: false, is_enterprise_install: false }] });
      await postSlack(url, asPerson(directMessage({ text: 'hello from the installer' })));
      await postSlack(url, asPerson(appMention({ text: 'and in a channel' })));
      await until(() => (slack.callsTo('chat.postMessage').length === 2 ? true : undefined), 'both answered');
      await quiet();
      expect(slack.callsTo('chat.postMessage').map((p) => p.args.text).sort()).toEqual(['echo: and in a channel', 'echo: hello from the installer']);
    } finally {
      await bot.close();
      await slack.close();
      await ai.close();
    }
  });
});

describe('Slack: an event parley does not answer, at debug', () => {
  it('says why the bot stayed quiet (as WhatsApp and Intercom do), naming the event and its subtype', async () => {
    const slack = await startFakeSlack();
    const ai = await startFakeOpenAi();
    const lines: { level: number; msg: string; event?: string; subtype?: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const server = await startSlackBot(slack, ai, {}, undefined, { bot: { logger } });
    try {
      const response = await postSlack(server.url, botMessage({ botId: 'B0OTHER', text: 'beep' }));
      expect(response.status).toBe(200);
      expect(lines).toContainEqual(expect.objectContaining({ level: 20, event: 'message', subtype: 'bot_message', msg: expect.stringMatching(/^nothing to answer in this Slack event/) }));
    } finally {
      await server.close();
      await slack.close();
      await ai.close();
    }
  });
});
