/**
 * Which Intercom notifications parley answers, and how they become InboundMessages: a customer's
 * new conversation or reply is answered; a teammate's reply makes the bot step aside; the bot's
 * own replies, other admins' and bots' parts, and every other topic are left alone.
 */
import type { Logger } from 'pino';
import type { Attachment, InboundMessage } from 'parley/adapter-kit';
import { htmlToText } from './html-text.js';
import { attachmentsOf, bodyOf, conversationIdOf, isPerson, notificationIdOf, partsOf, type IntercomConversation, type IntercomNotification, type IntercomPart } from './notification.js';
import type { ConversationState } from './state.js';

export interface IntercomDetails {
  conversationId: string;
  [key: string]: unknown;
}

export interface InboundDeps {
  state: ConversationState;
  /** The admin the bot replies as (its parts are its own replies); undefined until GET /me has answered. */
  botAdminId(): string | undefined;
  stopAfterHumanReply: boolean;
  wantsPerson(text: string): boolean;
  logger(): Logger;
  /** A notification dropped because every part it carries was taken from another: counted as a duplicate, as a repeated notification id is. */
  duplicate(): void;
}

/** The messages to answer in a verified notification (none or one); records hand-overs. */
export async function messagesFromNotification(notification: IntercomNotification, deps: InboundDeps): Promise<InboundMessage[]> {
  switch (notification.topic) {
    case 'conversation.user.created':
    case 'conversation.user.replied': {
      const message = await customerMessage(notification, deps);
      return message ? [message] : [];
    }
    case 'conversation.admin.replied':
      // Any admin's reply but a note; a close or an assignment only when it says something, or names a person.
      await noteTeammates(notification, adminsWhoWrote(partsOf(notification.data?.item), (p) => p.part_type !== 'note'), deps);
      return [];
    case 'conversation.admin.closed':
      await noteTeammates(notification, adminsWhoWrote(partsOf(notification.data?.item), (p) => p.part_type !== 'note' && bodyOf(p) !== ''), deps);
      return [];
    case 'conversation.admin.assigned':
    case 'conversation.admin.open.assigned':
      await noteTeammates(notification, personAssignee(notification.data?.item), deps);
      return [];
    default:
      return [];
  }
}

async function customerMessage(notification: IntercomNotification, deps: InboundDeps): Promise<InboundMessage | undefined> {
  const conversationId = conversationIdOf(notification);
  const item = notification.data?.item;
  if (!conversationId || !item) return undefined;
  const parts = notification.topic === 'conversation.user.created' ? sourcePart(item.source) : newestCustomerParts(partsOf(item));
  if (parts.length === 0) return undefined;
  // The notification id is the dedupe key; a notification without one is keyed on its parts.
  const notificationId = notificationIdOf(notification) ?? `${conversationId}:${parts.map((p) => p.id ?? '').join(',')}`;
  const log = deps.logger().child({ conversation: conversationId, notification: notificationId });

  // A teammate already has it (admin.replied or admin.assigned may never have reached us): what the payload shows.
  if (await noteTeammates(notification, teammatesShownIn(item, notification.topic), deps)) {
    log.debug('the conversation is with a teammate; not answering');
    return undefined;
  }
  if (await deps.state.stopped(conversationId, notificationId, deps.botAdminId())) {
    log.debug('the conversation is with a teammate; not answering');
    return undefined;
  }
  const fresh: IntercomPart[] = [];
  for (const part of parts) {
    if (!part.id || (await deps.state.claimPart(conversationId, String(part.id), notificationId))) fresh.push(part);
  }
  if (fresh.length === 0) {
    deps.duplicate();
    log.debug('every part was already taken from another notification');
    return undefined;
  }

  const texts: string[] = [];
  const written: string[] = [];
  const attachments: Attachment[] = [];
  for (const part of fresh) {
    const { text, written: words, images } = htmlToText(bodyOf(part));
    if (text) texts.push(text);
    written.push(words);
    for (const a of attachmentsOf(part)) {
      if (a.url || a.name) attachments.push({ url: a.url, contentType: a.content_type, name: a.name });
    }
    for (const url of images) attachments.push({ url, contentType: imageType(url) });
  }
  const text = texts.join('\n\n');
  if (!text && attachments.length === 0) return undefined;

  // Asked in the customer's own words: not in a link's address (help.example.com/human-resources).
  const handoff = deps.wantsPerson(written.join('\n\n'));
  // Stop at once, not when the worker gets to it: messages sent meanwhile must not be answered.
  // Only one request is handed over: another that came at the same time is not answered at all.
  if (handoff && !(await deps.state.stopForHandoff(conversationId, notificationId))) {
    log.debug('another request for a person came first, or a teammate has the conversation; not answering');
    return undefined;
  }
  const author = fresh.at(-1)?.author;
  const details: IntercomDetails = { conversationId };
  return {
    id: notificationId,
    platform: 'intercom',
    conversation: { platform: 'intercom', id: conversationId, details },
    user: { id: String(author?.id ?? 'unknown'), ...(typeof author?.name === 'string' && author.name ? { name: author.name } : {}) },
    text,
    ...(attachments.length > 0 ? { attachments } : {}),
    receivedAt: new Date().toISOString(),
    ...(notification.app_id ? { tenant: notification.app_id } : {}),
    ...(handoff ? { handoff: true } : {}),
  };
}

/** A new conversation's first message, when a customer wrote it. The source id is its part id. */
function sourcePart(source: IntercomPart | undefined): IntercomPart[] {
  if (typeof source !== 'object' || source === null || !isPerson(source.author)) return [];
  return [{ ...source, id: source.id ? `source-${source.id}` : undefined }];
}

/**
 * The customer's newest parts (oldest first): those after the last thing the workspace said.
 * Silent parts (assignments, internal notes) are passed over; the bot's own reply is a stop.
 */
function newestCustomerParts(parts: readonly IntercomPart[]): IntercomPart[] {
  const newest: IntercomPart[] = [];
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i] as IntercomPart;
    if (isPerson(part.author)) {
      if (bodyOf(part) || attachmentsOf(part).length > 0) newest.unshift(part);
    } else if (part.part_type === 'comment' || part.part_type === 'quick_reply') {
      break; // the workspace answered: what came before was answered
    }
  }
  return newest;
}

/**
 * Admins other than the bot took part (replied, closed with a message, took the assignment): the
 * conversation is theirs from now on (when configured). True when it is now known to be a
 * teammate's; while the bot's own admin is not known yet, the ids are kept undecided (false).
 */
async function noteTeammates(notification: IntercomNotification, admins: readonly string[], deps: InboundDeps): Promise<boolean> {
  if (!deps.stopAfterHumanReply || admins.length === 0) return false;
  const conversationId = conversationIdOf(notification);
  if (!conversationId) return false;
  const bot = deps.botAdminId();
  if (bot === undefined) {
    // Still starting: whether this was the bot's own doing is decided once its admin is known.
    await deps.state.noteAdminReply(conversationId, admins);
    return false;
  }
  const human = admins.find((id) => id !== bot);
  if (!human) return false;
  await deps.state.stopForHuman(conversationId, human);
  deps.logger().info({ conversation: conversationId, admin: human, topic: notification.topic }, 'a teammate took part; the bot stays out of this conversation');
  return true;
}

/** The admins who wrote the parts that pass `counts`. */
function adminsWhoWrote(parts: readonly IntercomPart[], counts: (part: IntercomPart) => boolean): string[] {
  return parts.filter((p) => p.author?.type === 'admin' && p.author.id !== undefined && p.author.id !== null && counts(p)).map((p) => String(p.author?.id));
}

/** The person the conversation is assigned to (Intercom's admin_assignee_id), if any: a team is no one's takeover. */
function personAssignee(item: IntercomConversation | undefined): string[] {
  const id: unknown = item?.admin_assignee_id;
  const text = typeof id === 'number' ? String(id) : typeof id === 'string' ? id : '';
  return text !== '' && text !== '0' ? [text] : [];
}

/** A teammate's actions that can carry a message to the customer (Intercom's reply-and-close, -assign, -reopen, -snooze). */
const ACTIONS_WITH_WORDS = new Set(['close', 'assignment', 'open', 'snoozed', 'assign_and_reopen', 'assign_and_unsnooze']);

/**
 * A customer's message whose payload shows a teammate: assigned to a person, a teammate's comment
 * among its parts, or (a reply) a conversation a teammate started, such as an outbound message.
 */
function teammatesShownIn(item: IntercomConversation, topic: string | undefined): string[] {
  const started = topic === 'conversation.user.replied' && item.source?.author?.type === 'admin' && item.source.author.id ? [String(item.source.author.id)] : [];
  // An action sent with a message (a close, an assignment, a reopening) is a teammate's word too, as admin.replied and admin.closed count it.
  const said = (p: IntercomPart) => p.part_type === 'comment' || p.part_type === 'quick_reply' || (ACTIONS_WITH_WORDS.has(p.part_type ?? '') && bodyOf(p) !== '');
  return [...personAssignee(item), ...started, ...adminsWhoWrote(partsOf(item), said)];
}

/** The type of an image shown inline, from its file name, so vision models can be given it. */
function imageType(url: string): string {
  const extension = /\.([a-z0-9]{2,5})(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase();
  const known: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };
  return (extension && known[extension]) ?? 'image/*';
}
