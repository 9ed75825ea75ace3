/**
 * Intercom webhook notifications for tests, shaped like the ones Intercom sends (its "Webhook
 * models" docs: a `notification_event` with the conversation in `data.item`), and signed as
 * Intercom documents it — `X-Hub-Signature: sha1=` + hex HMAC-SHA1 of the body with the app's
 * client secret — written here, independent of the parley code under test. Every builder yields
 * fresh notification and part ids unless given some.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { FetchLike } from './in-process.js';

export const DEFAULT_CLIENT_SECRET = 'test-intercom-client-secret';
export const APP_ID = 'parleytest';
export const CUSTOMER = { type: 'user', id: '65f0c0ffee0000000000aa01', name: 'Alice Customer', email: 'alice@example.com' } as const;
export const LEAD = { type: 'lead', id: '65f0c0ffee0000000000bb02', name: null, email: null } as const;

export interface Author {
  type: string;
  id: string;
  name?: string | null;
  email?: string | null;
}

export interface PartAttachment {
  type: 'upload';
  name: string;
  url: string;
  content_type: string;
  filesize: number;
  width?: number;
  height?: number;
}

export interface ConversationPart {
  type: 'conversation_part';
  id: string;
  part_type: string;
  body: string | null;
  created_at: number;
  updated_at: number;
  notified_at: number;
  assigned_to: unknown;
  author: Author;
  attachments: PartAttachment[];
  external_id: null;
  redacted: boolean;
}

export interface Notification {
  type: 'notification_event';
  app_id: string;
  id: string;
  topic: string;
  delivery_status: string;
  delivery_attempts: number;
  delivered_at: number;
  first_sent_at: number;
  created_at: number;
  self: null;
  links: Record<string, never>;
  data: { type: 'notification_event_data'; item: Record<string, unknown> };
}

/** `sha1=` + hex(HMAC-SHA1(client secret, raw body)). */
export function signIntercom(secret: string, body: string): string {
  return `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
}

let counter = 0;
const nextId = () => String(7_000_000 + ++counter);
const now = () => Math.floor(Date.now() / 1000);

/** A fresh conversation id (Intercom's are numeric strings). */
export function conversationId(): string {
  return String(100_000_000 + ++counter);
}

/** A conversation part; the author is the customer unless given. */
export function part(body: string | null, options: { author?: Author; partType?: string; id?: string; attachments?: PartAttachment[] } = {}): ConversationPart {
  const t = now();
  return {
    type: 'conversation_part',
    id: options.id ?? nextId(),
    part_type: options.partType ?? 'comment',
    body,
    created_at: t,
    updated_at: t,
    notified_at: t,
    assigned_to: null,
    author: options.author ?? { ...CUSTOMER },
    attachments: options.attachments ?? [],
    external_id: null,
    redacted: false,
  };
}

export const adminAuthor = (id: string, name = 'Teammate'): Author => ({ type: 'admin', id, name, email: `${name.toLowerCase().replace(/\s+/g, '.')}@example.com` });
export const botAuthor = (id = '814860'): Author => ({ type: 'bot', id, name: 'Operator', email: 'operator+abc@intercom.io' });

export function imageAttachment(name = 'screenshot.png'): PartAttachment {
  return { type: 'upload', name, url: `https://downloads.intercomcdn.com/i/o/123/${name}`, content_type: 'image/png', filesize: 48213, width: 800, height: 600 };
}

interface Shape {
  /** admin_assignee_id: the teammate it is assigned to. */
  assignee?: string;
  /** source.delivered_as: 'admin_initiated' for a teammate's outbound message. */
  deliveredAs?: string;
}

function conversation(id: string, source: Partial<ConversationPart> & { body: string | null; author: Author }, parts: ConversationPart[], shape: Shape = {}) {
  const t = now();
  return {
    type: 'conversation',
    id,
    created_at: t - 120,
    updated_at: t,
    waiting_since: t,
    snoozed_until: null,
    title: null,
    open: true,
    state: 'open',
    read: false,
    priority: 'not_priority',
    admin_assignee_id: shape.assignee !== undefined ? Number(shape.assignee) : null,
    team_assignee_id: null,
    tags: { type: 'tag.list', tags: [] },
    source: {
      type: 'conversation',
      id: source.id ?? nextId(),
      delivered_as: shape.deliveredAs ?? 'customer_initiated',
      subject: '',
      body: source.body,
      author: source.author,
      attachments: source.attachments ?? [],
      url: 'https://example.com/pricing',
      redacted: false,
    },
    contacts: { type: 'contact.list', contacts: [{ type: 'contact', id: CUSTOMER.id, external_id: 'customer-1' }] },
    teammates: { type: 'admin.list', admins: [] },
    first_contact_reply: { created_at: t - 120, type: 'conversation', url: 'https://example.com/pricing' },
    conversation_parts: { type: 'conversation_part.list', conversation_parts: parts, total_count: parts.length },
  };
}

function envelope(topic: string, item: Record<string, unknown>, id?: string): Notification {
  const t = now();
  return {
    type: 'notification_event',
    app_id: APP_ID,
    id: id ?? `notif_${randomUUID()}`,
    topic,
    delivery_status: 'pending',
    delivery_attempts: 1,
    delivered_at: 0,
    first_sent_at: t,
    created_at: t,
    self: null,
    links: {},
    data: { type: 'notification_event_data', item },
  };
}

/** `conversation.user.created`: a customer starts a conversation; the text is in `source.body`. */
export function userCreated(options: { conversation?: string; body: string | null; author?: Author; attachments?: PartAttachment[]; sourceId?: string; id?: string }): Notification {
  const source = { body: options.body, author: options.author ?? { ...CUSTOMER }, attachments: options.attachments ?? [], ...(options.sourceId ? { id: options.sourceId } : {}) };
  return envelope('conversation.user.created', conversation(options.conversation ?? conversationId(), source, []), options.id);
}

/** `conversation.user.replied`: the conversation with its parts, newest last. */
export function userReplied(options: { conversation?: string; parts: ConversationPart[]; id?: string; assignee?: string; startedBy?: Author }): Notification {
  const source = { body: '<p>Hi there</p>', author: options.startedBy ?? { ...CUSTOMER } };
  const shape = { ...(options.assignee ? { assignee: options.assignee } : {}), ...(options.startedBy?.type === 'admin' ? { deliveredAs: 'admin_initiated' } : {}) };
  return envelope('conversation.user.replied', conversation(options.conversation ?? conversationId(), source, options.parts, shape), options.id);
}

/** `conversation.admin.closed`: a teammate closed it, with a message or none. */
export function adminClosed(options: { conversation: string; adminId: string; body?: string | null }): Notification {
  const close = part(options.body ?? null, { author: adminAuthor(options.adminId), partType: 'close' });
  return envelope('conversation.admin.closed', conversation(options.conversation, { body: '<p>Hi there</p>', author: { ...CUSTOMER } }, [close]));
}

/** `conversation.admin.assigned`: `adminId` assigned it to the teammate `assignee` (or to no one: '0'). */
export function adminAssigned(options: { conversation: string; adminId: string; assignee: string }): Notification {
  const assignment = part(null, { author: adminAuthor(options.adminId), partType: 'assignment' });
  return envelope('conversation.admin.assigned', conversation(options.conversation, { body: '<p>Hi there</p>', author: { ...CUSTOMER } }, [assignment], { assignee: options.assignee }));
}

/** `conversation.admin.replied`: a teammate (or the bot's own admin) answered. */
export function adminReplied(options: { conversation: string; adminId: string; body?: string; id?: string }): Notification {
  const reply = part(options.body ?? '<p>Hi, Sam from support here — let me look into it.</p>', { author: adminAuthor(options.adminId) });
  return envelope('conversation.admin.replied', conversation(options.conversation, { body: '<p>Hi there</p>', author: { ...CUSTOMER } }, [reply]), options.id);
}

/** The `ping` Intercom sends when a webhook is saved or tested. */
export function ping(): Notification {
  return envelope('ping', { type: 'ping', message: 'something' });
}

/** Any other topic. */
export function otherTopic(topic: string, conversation = conversationId()): Notification {
  return envelope(topic, conversation === '' ? {} : { type: 'conversation', id: conversation });
}

export interface PostOptions {
  secret?: string;
  /** Send this X-Hub-Signature instead of a computed one; null sends none. */
  signature?: string | null;
  /** Send with this instead of the global fetch (e.g. a bot's handler in this process). */
  fetch?: FetchLike;
}

/** POST a notification (or a raw body) to the webhook, signed unless told otherwise. */
export function postIntercom(url: string, payload: Notification | string, options: PostOptions = {}): Promise<Response> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Intercom-Webhooks' };
  const signature = options.signature === undefined ? signIntercom(options.secret ?? DEFAULT_CLIENT_SECRET, body) : options.signature;
  if (signature !== null) headers['x-hub-signature'] = signature;
  return (options.fetch ?? fetch)(url, { method: 'POST', headers, body });
}
