/**
 * Intercom's webhook notification, as much of it as parley reads. Intercom documents the shape at
 * developers.intercom.com ("Webhook models"). schema.ts checks the fields parley reads; the readers
 * below still treat each as optional, so a partial payload is dropped rather than crash a request.
 */
import { InvalidPayloadError, checkPayload, type HttpRequest } from 'parley/adapter-kit';
import { conversationItem, conversationTopics, intercomNotification } from './schema.js';

export interface IntercomAuthor {
  /** user, lead, contact (people); admin, bot, team (the workspace's side). */
  type?: string;
  id?: string;
  name?: string | null;
  email?: string | null;
}

export interface IntercomAttachment {
  type?: string;
  name?: string;
  url?: string;
  content_type?: string;
}

export interface IntercomPart {
  id?: string;
  part_type?: string;
  body?: string | null;
  author?: IntercomAuthor;
  attachments?: IntercomAttachment[];
  created_at?: number;
}

export interface IntercomConversation {
  type?: string;
  id?: string | number;
  /** The conversation's first message. */
  source?: IntercomPart & { delivered_as?: string };
  /** The teammate it is assigned to (0 or null: none); read leniently, never checked. */
  admin_assignee_id?: unknown;
  conversation_parts?: { conversation_parts?: IntercomPart[] };
}

export interface IntercomNotification {
  type?: string;
  /** The notification's id (`notif_…`): the same on every redelivery. */
  id?: string;
  topic?: string;
  app_id?: string;
  data?: { item?: IntercomConversation & Record<string, unknown> };
  delivery_attempts?: number;
}

/**
 * Parse a verified body and check it against schema.ts. Intercom redelivers anything but a 2xx (and
 * suspends a webhook that keeps failing), so a payload that can never succeed gets a 200 and is dropped.
 */
export function parseNotification(request: HttpRequest): IntercomNotification {
  const parsed = parseJsonObject(request.body.toString('utf8'));
  if (parsed === undefined) throw new InvalidPayloadError('The Intercom notification is not a JSON object.', undefined, 200, 'malformed_body');
  const notification = checkPayload(intercomNotification, parsed, 'The Intercom notification', 200);
  if (conversationTopics.has(notification.topic)) checkPayload(conversationItem, notification.data.item, `The conversation in the Intercom ${notification.topic} notification`, 200);
  return parsed as IntercomNotification;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Authors whose messages the bot answers. */
export function isPerson(author: IntercomAuthor | undefined): boolean {
  return author?.type === 'user' || author?.type === 'lead' || author?.type === 'contact';
}

/** The conversation's id as a string, if the notification carries one. */
export function conversationIdOf(notification: IntercomNotification): string | undefined {
  const id = notification.data?.item?.id;
  return typeof id === 'string' && id !== '' ? id : typeof id === 'number' ? String(id) : undefined;
}

/** The conversation's parts, oldest first; anything that is not a part object is dropped. */
export function partsOf(conversation: IntercomConversation | undefined): IntercomPart[] {
  const parts: unknown = conversation?.conversation_parts?.conversation_parts;
  return Array.isArray(parts) ? parts.filter((p): p is IntercomPart => typeof p === 'object' && p !== null) : [];
}

/** A part's HTML body, or '' when it has none (or something else than text). */
export function bodyOf(part: IntercomPart): string {
  return typeof part.body === 'string' ? part.body : '';
}

/** A part's attachments, when they are a list. */
export function attachmentsOf(part: IntercomPart): IntercomAttachment[] {
  return Array.isArray(part.attachments) ? part.attachments.filter((a) => typeof a === 'object' && a !== null) : [];
}

/** The notification's id, when it is one. */
export function notificationIdOf(notification: IntercomNotification): string | undefined {
  return typeof notification.id === 'string' && notification.id !== '' ? notification.id : undefined;
}
