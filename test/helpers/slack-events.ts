/**
 * Inbound Slack requests for tests: Events API envelopes, slash command bodies, and request
 * signing done the way Slack documents it (v0 = HMAC-SHA256 over `v0:<timestamp>:<body>`).
 * Written from Slack's documentation, independent of the parley code under test. Every builder
 * yields a fresh event_id and ts unless given one.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { FetchLike } from './in-process.js';

export const DEFAULT_SIGNING_SECRET = 'test-signing-secret';
export const BOT_USER_ID = 'UBOT';
export const TEAM_ID = 'T0PARLEY';
export const APP_ID = 'A0PARLEY';
export const USER_ID = 'U0ALICE';
export const CHANNEL_ID = 'C0GENERAL';
export const DM_CHANNEL_ID = 'D0ALICEDM';
/** The legacy verification token Slack still puts in payloads (unused when requests are signed). */
export const VERIFICATION_TOKEN = 'legacy-verification-token';

export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
}

/** Sign a request body as Slack does: `v0=` + hex(HMAC-SHA256(secret, `v0:${ts}:${body}`)). */
export function signSlack(secret: string, body: string, timestampSeconds = Math.floor(Date.now() / 1000)): SlackSignatureHeaders {
  const digest = createHmac('sha256', secret).update(`v0:${timestampSeconds}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${digest}`, 'x-slack-request-timestamp': String(timestampSeconds) };
}

/** An event inside an envelope; the common fields typed, the rest open. */
export interface SlackEventPayload {
  type: string;
  event_ts: string;
  subtype?: string;
  ts?: string;
  channel?: string;
  channel_type?: string;
  user?: string;
  text?: string;
  thread_ts?: string;
  bot_id?: string;
  [key: string]: unknown;
}

/** An Events API `event_callback` envelope. */
export interface SlackEventEnvelope<E extends SlackEventPayload = SlackEventPayload> {
  token: string;
  team_id: string;
  context_team_id: string;
  context_enterprise_id: null;
  api_app_id: string;
  event: E;
  type: 'event_callback';
  event_id: string;
  event_time: number;
  authorizations: { enterprise_id: null; team_id: string; user_id: string; is_bot: true; is_enterprise_install: false }[];
  is_ext_shared_channel: boolean;
  event_context: string;
}

/** Options shared by the event builders. */
export interface EventOptions {
  channel?: string;
  user?: string;
  /** The message's ts (default: a fresh, increasing one). */
  ts?: string;
  /** Set to put the message in a thread. */
  threadTs?: string;
  team?: string;
  /** The envelope's event_id (default: a fresh one). This is the id Slack keeps across retries. */
  eventId?: string;
  /** The envelope's event_time in seconds (default: now). */
  eventTime?: number;
  /** The bot user the app is installed as (default UBOT). */
  botUserId?: string;
  apiAppId?: string;
}

let lastMicros = 0;
/** A fresh Slack ts ("seconds.micros"), strictly increasing across the test process. */
export function nextSlackTs(): string {
  lastMicros = Math.max(lastMicros + 1, Date.now() * 1000);
  return `${Math.floor(lastMicros / 1_000_000)}.${String(lastMicros % 1_000_000).padStart(6, '0')}`;
}

let eventCounter = 0;
/** A fresh event id shaped like Slack's (`Ev` + upper-case alphanumerics). */
export function nextEventId(): string {
  eventCounter++;
  const unique = `${eventCounter.toString(36)}${Math.random().toString(36).slice(2, 8)}`.toUpperCase();
  return `Ev0${unique.padStart(8, '0')}`;
}

function envelope<E extends SlackEventPayload>(event: E, opts: EventOptions): SlackEventEnvelope<E> {
  const team = opts.team ?? TEAM_ID;
  return {
    token: VERIFICATION_TOKEN,
    team_id: team,
    context_team_id: team,
    context_enterprise_id: null,
    api_app_id: opts.apiAppId ?? APP_ID,
    event,
    type: 'event_callback',
    event_id: opts.eventId ?? nextEventId(),
    event_time: opts.eventTime ?? Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: team, user_id: opts.botUserId ?? BOT_USER_ID, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `4-${Buffer.from(JSON.stringify({ team, event: event.type })).toString('base64url')}`,
  };
}

/** The fields every user-authored message carries. */
function userMessageFields(text: string, opts: EventOptions, channel: string) {
  const ts = opts.ts ?? nextSlackTs();
  return {
    user: opts.user ?? USER_ID,
    text,
    ts,
    team: opts.team ?? TEAM_ID,
    channel,
    event_ts: ts,
    client_msg_id: randomUUID(),
    ...(opts.threadTs !== undefined ? { thread_ts: opts.threadTs } : {}),
  };
}

/** An `app_mention` event; the text is prefixed with `<@UBOT> ` unless it already mentions the bot. */
export function appMention(opts: EventOptions & { text: string }): SlackEventEnvelope {
  const bot = opts.botUserId ?? BOT_USER_ID;
  const text = opts.text.includes(`<@${bot}>`) ? opts.text : `<@${bot}> ${opts.text}`;
  return envelope({ type: 'app_mention', ...userMessageFields(text, opts, opts.channel ?? CHANNEL_ID) }, opts);
}

/** A `message` in a direct message (channel_type `im`, a `D…` channel). */
export function directMessage(opts: EventOptions & { text: string }): SlackEventEnvelope {
  return envelope({ type: 'message', ...userMessageFields(opts.text, opts, opts.channel ?? DM_CHANNEL_ID), channel_type: 'im' }, opts);
}

/** A `message` in a public channel (channel_type `channel`), optionally in a thread. */
export function channelMessage(opts: EventOptions & { text: string; channelType?: 'channel' | 'group' | 'mpim' }): SlackEventEnvelope {
  return envelope(
    { type: 'message', ...userMessageFields(opts.text, opts, opts.channel ?? CHANNEL_ID), channel_type: opts.channelType ?? 'channel' },
    opts,
  );
}

/**
 * A message posted by a bot: by default the legacy `bot_message` subtype; pass `subtype: null`
 * (and usually `user`) for the shape Slack sends for apps posting with a bot token.
 */
export function botMessage(
  opts: EventOptions & { botId: string; text?: string; username?: string; subtype?: 'bot_message' | null; channelType?: 'channel' | 'group' | 'im' | 'mpim' },
): SlackEventEnvelope {
  const ts = opts.ts ?? nextSlackTs();
  const subtype = opts.subtype === undefined ? 'bot_message' : opts.subtype;
  const channelType = opts.channelType ?? 'channel';
  return envelope(
    {
      type: 'message',
      ...(subtype ? { subtype } : {}),
      text: opts.text ?? 'beep boop',
      bot_id: opts.botId,
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.user !== undefined ? { user: opts.user } : {}),
      team: opts.team ?? TEAM_ID,
      channel: opts.channel ?? (channelType === 'im' ? DM_CHANNEL_ID : CHANNEL_ID),
      channel_type: channelType,
      ts,
      event_ts: ts,
      ...(opts.threadTs !== undefined ? { thread_ts: opts.threadTs } : {}),
    },
    opts,
  );
}

/** A `message_changed` event: the message at `ts` (default: fresh) edited to `text`. */
export function messageChanged(
  opts: EventOptions & { text: string; previousText?: string; channelType?: 'channel' | 'group' | 'im' | 'mpim' },
): SlackEventEnvelope {
  const channelType = opts.channelType ?? 'channel';
  const channel = opts.channel ?? (channelType === 'im' ? DM_CHANNEL_ID : CHANNEL_ID);
  const user = opts.user ?? USER_ID;
  const originalTs = opts.ts ?? nextSlackTs();
  const editTs = nextSlackTs();
  const thread = opts.threadTs !== undefined ? { thread_ts: opts.threadTs } : {};
  const clientMsgId = randomUUID();
  return envelope(
    {
      type: 'message',
      subtype: 'message_changed',
      hidden: true,
      channel,
      channel_type: channelType,
      ts: editTs,
      event_ts: editTs,
      message: {
        type: 'message',
        user,
        text: opts.text,
        ts: originalTs,
        team: opts.team ?? TEAM_ID,
        client_msg_id: clientMsgId,
        edited: { user, ts: editTs },
        ...thread,
      },
      previous_message: {
        type: 'message',
        user,
        text: opts.previousText ?? 'original text',
        ts: originalTs,
        team: opts.team ?? TEAM_ID,
        client_msg_id: clientMsgId,
        ...thread,
      },
    },
    opts,
  );
}

/** `assistant_thread_started`: the user opened the assistant pane (a new thread in the app's DM). */
export function assistantThreadStarted(
  opts: Omit<EventOptions, 'ts'> & { contextChannel?: string } = {},
): SlackEventEnvelope {
  const eventTs = nextSlackTs();
  const team = opts.team ?? TEAM_ID;
  return envelope(
    {
      type: 'assistant_thread_started',
      assistant_thread: {
        user_id: opts.user ?? USER_ID,
        context: { channel_id: opts.contextChannel ?? CHANNEL_ID, team_id: team, enterprise_id: null },
        channel_id: opts.channel ?? DM_CHANNEL_ID,
        thread_ts: opts.threadTs ?? nextSlackTs(),
      },
      event_ts: eventTs,
    },
    opts,
  );
}

/** The handshake Slack sends when the Request URL is saved. */
export function urlVerification(challenge: string): { token: string; challenge: string; type: 'url_verification' } {
  return { token: VERIFICATION_TOKEN, challenge, type: 'url_verification' };
}

/** The fields every interaction payload carries: who, where, and the legacy token. */
function interactionBase(type: string, opts: { user?: string; team?: string; channel?: string }) {
  const team = opts.team ?? TEAM_ID;
  return {
    type,
    user: { id: opts.user ?? USER_ID, username: 'alice', name: 'alice', team_id: team },
    api_app_id: APP_ID,
    token: VERIFICATION_TOKEN,
    team: { id: team, domain: 'parley-test' },
    enterprise: null,
    is_enterprise_install: false,
    trigger_id: `1234567890.1234567890.${randomUUID().replaceAll('-', '')}`,
  };
}

/** A `block_actions` payload: a button clicked in a message the app posted. */
export function blockActions(opts: { actionId?: string; value?: string; channel?: string; user?: string; team?: string } = {}): Record<string, unknown> {
  const channel = opts.channel ?? CHANNEL_ID;
  const ts = nextSlackTs();
  return {
    ...interactionBase('block_actions', opts),
    container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
    channel: { id: channel, name: 'general' },
    message: { type: 'message', user: BOT_USER_ID, ts, text: 'Pick one', blocks: [] },
    state: { values: {} },
    response_url: `https://hooks.slack.com/actions/${TEAM_ID}/1234567890/${randomUUID().replaceAll('-', '')}`,
    actions: [
      { action_id: opts.actionId ?? 'approve', block_id: 'choices', text: { type: 'plain_text', text: 'Approve', emoji: true }, value: opts.value ?? 'yes', type: 'button', action_ts: ts },
    ],
  };
}

/** A `view_submission` payload: a modal submitted. */
export function viewSubmission(opts: { callbackId?: string; user?: string } = {}): Record<string, unknown> {
  return {
    ...interactionBase('view_submission', opts),
    view: {
      id: 'V0PARLEY01',
      team_id: TEAM_ID,
      type: 'modal',
      callback_id: opts.callbackId ?? 'feedback',
      private_metadata: '',
      state: { values: { comment: { text: { type: 'plain_text_input', value: 'great bot' } } } },
      hash: '1712345678.abcdefgh',
      app_installed_team_id: TEAM_ID,
    },
    response_urls: [],
  };
}

/** A global `shortcut` payload. */
export function globalShortcut(opts: { callbackId?: string; user?: string } = {}): Record<string, unknown> {
  return { ...interactionBase('shortcut', opts), callback_id: opts.callbackId ?? 'ask_parley', action_ts: nextSlackTs() };
}

/** An interaction as Slack posts it: the JSON payload in a form's `payload` field. */
export function interactionForm(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface SlashCommandOptions {
  command: string;
  text: string;
  channel?: string;
  channelName?: string;
  user?: string;
  userName?: string;
  team?: string;
  teamDomain?: string;
  apiAppId?: string;
  responseUrl?: string;
  triggerId?: string;
}

/** A slash command's x-www-form-urlencoded body, as Slack posts it. */
export function slashCommand(opts: SlashCommandOptions): string {
  const team = opts.team ?? TEAM_ID;
  const channel = opts.channel ?? CHANNEL_ID;
  return new URLSearchParams({
    token: VERIFICATION_TOKEN,
    team_id: team,
    team_domain: opts.teamDomain ?? 'parley-test',
    channel_id: channel,
    channel_name: opts.channelName ?? (channel.startsWith('D') ? 'directmessage' : 'general'),
    user_id: opts.user ?? USER_ID,
    user_name: opts.userName ?? 'alice',
    command: opts.command,
    text: opts.text,
    api_app_id: opts.apiAppId ?? APP_ID,
    is_enterprise_install: 'false',
    response_url: opts.responseUrl ?? `https://hooks.slack.com/commands/${team}/1234567890/${randomUUID().replaceAll('-', '')}`,
    trigger_id: opts.triggerId ?? `1234567890.1234567890.${randomUUID().replaceAll('-', '')}`,
  }).toString();
}

export interface PostSlackOptions {
  /** Signing secret (default `test-signing-secret`). */
  secret?: string;
  /** Marks the delivery as Slack's n-th retry (X-Slack-Retry-Num / X-Slack-Retry-Reason). */
  retryNum?: number;
  retryReason?: string;
  /** Request timestamp in seconds (default now) — set an old one to test staleness. */
  timestamp?: number;
  /** Default: application/json for objects, application/x-www-form-urlencoded for strings. */
  contentType?: string;
  /** Send this signature instead of the correct one. */
  signature?: string;
  headers?: Record<string, string>;
  /** Send with this instead of the global fetch (e.g. a bot's handler in this process). */
  fetch?: FetchLike;
}

/** POST a signed request the way Slack does; objects are sent as JSON, strings as form bodies. */
export async function postSlack(url: string, body: object | string, opts: PostSlackOptions = {}): Promise<Response> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const signed = signSlack(opts.secret ?? DEFAULT_SIGNING_SECRET, raw, opts.timestamp);
  const headers: Record<string, string> = {
    'content-type': opts.contentType ?? (typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json'),
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    ...signed,
    ...(opts.signature !== undefined ? { 'x-slack-signature': opts.signature } : {}),
    ...(opts.retryNum !== undefined
      ? { 'x-slack-retry-num': String(opts.retryNum), 'x-slack-retry-reason': opts.retryReason ?? 'http_timeout' }
      : {}),
    ...opts.headers,
  };
  return (opts.fetch ?? fetch)(url, { method: 'POST', headers, body: raw });
}
