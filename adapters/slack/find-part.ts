/**
 * Looking for a reply part whose post timed out (MaybePostedError): Slack may have posted it all
 * the same. Slack keeps no idempotency key, so each part is posted with its key as message
 * metadata, and found by it in the thread (conversations.replies, oldest first) or the channel
 * (conversations.history, newest first) since it was sent. A streamed reply's stop carries the
 * reply's key the same way: a retry finds the message a stop it never heard back from finished.
 */
import type { ReplyPart } from 'parley/adapter-kit';

/** The metadata event type of a reply's part (Slack: lowercase letters and underscores). */
const PART_EVENT_TYPE = 'parley_reply_part';
/** Pages of 100 messages read at most: a busy channel may hold hundreds between a post and its retry. */
const PAGES = 5;

interface Page {
  messages?: { ts?: string; metadata?: { event_payload?: unknown } }[];
  response_metadata?: { next_cursor?: string };
}

/** The ts of the message posted with `key` since `since` (epoch ms), reading pages through `read`. */
export async function findKeyedMessage(read: (page: object) => Promise<Page>, key: string, since: number): Promise<string | undefined> {
  // A minute's margin for clocks; the key, not the time, decides.
  const window = { oldest: String(Math.floor(since / 1000) - 60), include_all_metadata: true, limit: 100 };
  let cursor: string | undefined;
  for (let page = 0; page < PAGES; page++) {
    const found = await read({ ...window, ...(cursor ? { cursor } : {}) });
    const message = found.messages?.find((m) => (m.metadata?.event_payload as { part?: unknown } | undefined)?.part === key);
    cursor = found.response_metadata?.next_cursor || undefined;
    if (message || !cursor) return message?.ts;
  }
  return undefined;
}

/** Slack has no idempotency key: a part carries its key as message metadata, for findKeyedMessage. */
export function partMetadata(part: ReplyPart | undefined): KeyedMetadata {
  return keyedMetadata(part?.key);
}

/** The metadata carrying `key`: a part's (`<reply key>:<index>`), or a streamed reply's own (`<reply key>`, on the stop that ends it whole). */
export function keyedMetadata(key: string | undefined): KeyedMetadata {
  return key ? { metadata: { event_type: PART_EVENT_TYPE, event_payload: { part: key } } } : {};
}

type KeyedMetadata = { metadata?: { event_type: string; event_payload: { part: string } } };
