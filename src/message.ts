/**
 * The platform-agnostic vocabulary shared by the core and the adapters.
 * Everything here is plain data (JSON-serialisable) so it can cross a queue.
 */

/**
 * Where a reply must go: everything an adapter needs to answer later. `TDetails` is the adapter's
 * own details type (an adapter's `Adapter<TDetails>` receives its refs typed so).
 */
export interface ConversationRef<TDetails extends object = Record<string, unknown>> {
  /** The adapter's platform name, e.g. "slack", "whatsapp", "web". */
  platform: string;
  /** Unique within the platform; the key for locks and history (e.g. team:channel:thread). */
  id: string;
  /** Platform details the adapter needs to send (channel, thread_ts, phone numbers...). */
  details?: TDetails;
}

export interface Attachment {
  url?: string;
  contentType?: string;
  name?: string;
}

/** One message from a person, as every adapter hands it to the core; `conversation.details` is the adapter's `TDetails`. */
// The default is `any` so that code written before this was generic (a `Promise<Received>` in an
// `Adapter<MyDetails>`) still compiles; give TDetails to have the details checked.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface InboundMessage<TDetails extends object = any> {
  /** The platform's delivery-stable id (Slack event_id, Twilio MessageSid...): the dedupe key. */
  id: string;
  platform: string;
  conversation: ConversationRef<TDetails>;
  user: { id: string; name?: string };
  text: string;
  attachments?: Attachment[];
  /** ISO 8601 time parley received it. */
  receivedAt: string;
  /** Tenant / workspace for rate limits and budgets (Slack team, Intercom app...). */
  tenant?: string;
  /** The platform's payload, for handlers that need more than the vocabulary. */
  raw?: unknown;
  /** The person asked for a human (the adapter matched its handoff patterns). */
  handoff?: boolean;
  /**
   * Take this message only while the bot's store holds this key (e.g. Slack: "the bot has answered
   * in this thread"); otherwise it is ignored: not claimed, not counted against a limit, not
   * queued, and the webhook is answered as usual. The core checks it in the same step as the
   * dedupe and the limits (on Redis: the same round trip), so the adapter need not read the store
   * on the ack path itself.
   */
  onlyIfStored?: string;
  /**
   * Once the message is taken, the store holds `key` for `ttlMs` (e.g. Slack: a mention marks its
   * thread, so a follow-up sent while the bot is still answering it is taken: see onlyIfStored).
   * Written in the same step as the dedupe where the queue can (on Redis: the same round trip).
   */
  marks?: { key: string; ttlMs: number };
}

/** What the bot says back. `kind` lets adapters style notices differently from answers. */
export interface Reply {
  text: string;
  kind?: 'answer' | 'notice' | 'apology';
  /** The model that wrote an AI answer, for transcripts. */
  model?: string;
}

/** What an adapter reports after sending. */
export interface Delivery {
  /** Platform ids of the message(s) posted, in order. */
  ids: string[];
}

/** A chat turn as kept in history and sent to the AI. */
export interface Turn {
  role: 'user' | 'assistant';
  text: string;
  at: string;
  /** For an assistant turn: the model that answered. */
  model?: string;
}
