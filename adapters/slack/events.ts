/**
 * Which Slack events parley answers, and how they become InboundMessages. Everything else
 * (the bot's own messages, other bots, edits, deletions) is left to the developer's Bolt listeners.
 */
import type { Attachment, InboundMessage } from 'parley/adapter-kit';
import { THREAD_TTL_MS, slackKeys } from './send.js';
import { mentionsBot, withoutBotMention } from './bot-mention.js';
import { readableText } from './incoming-text.js';
import { textOfRichTextBlocks } from './rich-text.js';
import { editedMentionId, editedRecently } from './edited-mention.js';

export interface SlackDetails {
  team: string;
  channel: string;
  /** The thread to answer in; undefined for a top-level DM conversation. */
  threadTs?: string;
  user: string;
  /** The Enterprise Grid org, when the workspace is in one: part of the installation's key (OAuth). */
  enterprise?: string;
  /** True when the app is installed org-wide (one installation for the org's workspaces). */
  enterpriseInstall?: boolean;
  /** The writer's own team when it is not `team` (another organisation's, in a Slack Connect channel): whom a stream is for. */
  userTeam?: string;
  [key: string]: unknown;
}

interface SlackEvent {
  type: string;
  subtype?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  /** The message's blocks: its text when `text` is empty (rich-text.ts). */
  blocks?: unknown;
  ts?: string;
  thread_ts?: string;
  channel?: string;
  channel_type?: string;
  team?: string;
  /** The writer's team: in a Slack Connect channel, another organisation's. */
  user_team?: unknown;
  files?: { url_private?: string; mimetype?: string; name?: string }[];
  /** Set on a message that was edited: a mention edited comes again as a new app_mention (edited-mention.ts). */
  edited?: unknown;
}

export interface EventCallback {
  type: 'event_callback';
  event_id: string;
  team_id?: string;
  /** The workspace the app sees the event in: in a Slack Connect channel team_id may be the other organisation's. */
  context_team_id?: string | null;
  enterprise_id?: string | null;
  authorizations?: { team_id?: string | null; enterprise_id?: string | null; is_enterprise_install?: boolean }[];
  event: SlackEvent;
}

export interface ClassifyOptions {
  botUserId?: string;
  /** Answer later messages in threads the bot has answered in, without a new mention. */
  threadFollowUps: boolean;
  /**
   * Take a mention an edit may have added (edited-mention.ts); the caller then ignores it when its
   * thread (the message's `marks`) is the bot's already. Without: every edit is ignored.
   */
  editedMentions?: boolean;
}

/** A workspace's id, as Slack writes them (an org's E… id, which Grid may put in user_team, is left: the workspace's has been used there). */
const TEAM_ID = /^T[A-Z0-9]{1,30}$/;

/** Slackbot's user id, the same in every workspace. */
const SLACKBOT = 'USLACKBOT';

/** Subtypes that still carry a person's new message (`me_message`: one written with `/me`). */
const PERSON_SUBTYPES = new Set(['file_share', 'thread_broadcast', 'me_message']);

/**
 * The message parley should answer in this event, if any. No I/O: a thread follow-up is taken only
 * if the bot was mentioned or has answered in the thread, which the core checks in the ack's one
 * step (onlyIfStored; a mention marks its thread in that step: marks).
 */
export function inboundFromEvent(body: EventCallback, options: ClassifyOptions): InboundMessage | undefined {
  const event = body.event;
  const team = teamOfEvent(body);
  const { user, channel, ts } = event;
  if (!user || !channel || !ts) return undefined;
  if (event.bot_id || (event.subtype && !PERSON_SUBTYPES.has(event.subtype))) return undefined;
  // An edited mention comes again as app_mention (same ts, new event_id, `edited`): only one the edit may have added is taken.
  if (event.edited && !(options.editedMentions && event.type === 'app_mention' && editedRecently(ts, event.edited))) return undefined;
  if (options.botUserId && user === options.botUserId) return undefined;
  // Slackbot (reminders, its custom responses) carries no bot_id: not a person's follow-up, and answering it could loop.
  if (user === SLACKBOT) return undefined;
  const bot = options.botUserId;
  // Slack's text; empty (a message posted with blocks only), the rich_text blocks' text instead.
  const raw = event.text || (event.blocks ? textOfRichTextBlocks(event.blocks) : '');

  let threadTs: string | undefined;
  /** A thread follow-up without a mention: its thread, whose answered marker must be in the store. */
  let followUpIn: string | undefined;
  /** A mention's thread: marked as the bot's once the mention is taken (follow-ups sent meanwhile are taken too). */
  let mentionIn: string | undefined;
  if (event.type === 'app_mention') {
    // In the app's DM its message.im is answered. Slack says it sends no app_mention there, yet one
    // has been seen alongside it: a second answer. (app_mention has no channel_type; DM ids start with D.)
    if (event.channel_type === 'im' || channel.startsWith('D')) return undefined;
    threadTs = mentionIn = event.thread_ts ?? ts;
  } else if (event.type === 'message' && event.channel_type === 'im') {
    threadTs = event.thread_ts;
  } else if (event.type === 'message') {
    // A mention also arrives as app_mention: answer that one only.
    if (bot && mentionsBot(raw, bot)) return undefined;
    if (!options.threadFollowUps || !event.thread_ts) return undefined;
    threadTs = followUpIn = event.thread_ts;
  } else {
    return undefined;
  }

  // Built field by field, not spread: this runs on the ack path of every message.
  const text = readableText(bot ? withoutBotMention(raw, bot) : raw).trim();
  // No url: a file's url_private answers only a request with the workspace's token, so a model
  // given it (AI_VISION) fails the call; the model is told of the file by name instead.
  const attachments: Attachment[] | undefined = event.files?.length ? event.files.map((f) => ({ contentType: f.mimetype, name: f.name })) : undefined;
  if (!text && !attachments) return undefined;
  const details: SlackDetails = { team, channel, user };
  if (threadTs) details.threadTs = threadTs;
  // chat.startStream's recipient_team_id is "the team the user receiving the streaming text belongs to" (send.ts).
  const userTeam = event.user_team;
  if (typeof userTeam === 'string' && userTeam !== team && TEAM_ID.test(userTeam)) details.userTeam = userTeam;
  addEnterprise(details, body);
  const message: InboundMessage = {
    id: event.edited ? editedMentionId(team, channel, ts) : body.event_id,
    platform: 'slack',
    conversation: { platform: 'slack', id: `${team}:${channel}:${threadTs ?? ''}`, details },
    user: { id: user },
    text,
    receivedAt: new Date().toISOString(),
    tenant: team,
  };
  if (attachments) message.attachments = attachments;
  // Answered only in a thread the bot has answered in (the sender's marker, send.ts).
  if (followUpIn) message.onlyIfStored = slackKeys.answeredThread(team, channel, followUpIn);
  // …and the thread a mention starts is one from the moment the mention is taken, not from the
  // reply: a follow-up written while the AI still works is answered after it, in order.
  if (mentionIn) message.marks = { key: slackKeys.answeredThread(team, channel, mentionIn), ttlMs: THREAD_TTL_MS };
  return message;
}

/**
 * The workspace an event is parley's in (its conversations, thread markers and tenant): the installation's
 * (authorizations[0], as Bolt authorizes); for an org-wide install, which names no workspace there, the one
 * Slack says the app sees it in (context_team_id). In a Slack Connect channel team_id is the other
 * organisation's workspace: the same thread would be two conversations, by who wrote.
 */
export function teamOfEvent(body: Pick<EventCallback, 'authorizations' | 'context_team_id' | 'team_id'> & { event?: { team?: string } }): string {
  const context = body.context_team_id;
  return body.authorizations?.[0]?.team_id ?? (typeof context === 'string' && context !== '' ? context : undefined) ?? body.team_id ?? body.event?.team ?? '';
}

/** The Grid org an event comes from, read as Bolt reads it (authorizations[0]); nothing outside a Grid. */
function addEnterprise(details: SlackDetails, body: EventCallback): void {
  const authorization = body.authorizations?.[0];
  const enterprise = (authorization ? authorization.enterprise_id : body.enterprise_id) ?? undefined;
  if (!enterprise) return;
  details.enterprise = enterprise;
  if (authorization?.is_enterprise_install === true) details.enterpriseInstall = true;
}
