/**
 * Looking for a reply part whose post got no answer (MaybePostedError): Intercom may have taken it
 * all the same. Intercom keeps no idempotency key, so the part is known by what it is: a comment by
 * the bot's admin, made since the post, whose body reads as the part's text. Both bodies are read
 * as text the same way (Intercom may store the HTML it was given a little differently).
 */
import { htmlToText } from './html-text.js';
import { markdownToIntercomHtml } from './markdown-html.js';

/**
 * Clocks differ (ours, Intercom's, whose times are whole seconds): a few seconds' margin. Kept
 * short, since a reply of the same text the bot posted earlier inside it would be taken for this
 * part, which would then never be posted.
 */
const CLOCK_MARGIN_MS = 5_000;

interface Part {
  id?: unknown;
  part_type?: unknown;
  body?: unknown;
  created_at?: unknown;
  author?: { type?: unknown; id?: unknown } | null;
}

/** The id of the part `markdown` became in `conversation` (GET /conversations/{id}), posted by `adminId` since `since` (epoch ms), if there is one. */
export function findPostedPart(conversation: unknown, adminId: string, markdown: string, since: number): string | undefined {
  const parts = (conversation as { conversation_parts?: { conversation_parts?: Part[] } } | undefined)?.conversation_parts?.conversation_parts ?? [];
  const text = asText(markdownToIntercomHtml(markdown));
  const after = since - CLOCK_MARGIN_MS;
  // A reply comes after the message it answers: only parts after the newest one not by the bot
  // (the customer's, a teammate's) made before the send can be it. One made after the send (the
  // customer writing again meanwhile) may come after the part and moves nothing.
  const lastOther = parts.findLastIndex(
    (p) => p.part_type === 'comment' && !(p.author?.type === 'admin' && String(p.author.id) === adminId) && typeof p.created_at === 'number' && p.created_at * 1000 <= since,
  );
  // Newest last: the newest match is the one just posted.
  const found = parts.slice(lastOther + 1).findLast(
    (p) =>
      p.part_type === 'comment' &&
      p.author?.type === 'admin' &&
      String(p.author.id) === adminId &&
      typeof p.created_at === 'number' &&
      p.created_at * 1000 >= after &&
      typeof p.body === 'string' &&
      asText(p.body) === text,
  );
  return found && (typeof found.id === 'string' || typeof found.id === 'number') ? String(found.id) : undefined;
}

function asText(html: string): string {
  return htmlToText(html).text;
}
