/** What the web chat accepts on POST /web/messages. */
import { z } from 'zod';

export const webMessage = z.object({
  /** Absent: a new conversation, its id minted by the server. */
  conversation: z.string().trim().min(1).max(200).optional(),
  /** Its length is checked by the adapter (a 413 for a message that is too long). */
  text: z.string().trim().min(1),
  /** A client-chosen id makes a resend idempotent. */
  id: z.string().min(1).max(200).optional(),
});

/** What POST /web/feedback accepts: a rating of one answer (its `exchange` from the transcript). */
export const webFeedback = z.object({
  conversation: z.string().trim().min(1).max(200),
  exchange: z.string().min(1).max(300),
  rating: z.enum(['good', 'bad']),
  /** Why (a 👎's reason); cut to 1000 characters. */
  reason: z.string().max(4000).optional(),
});

/**
 * How many characters `text` has, as a person counts them: code points, so an emoji (two UTF-16
 * code units) is one. Without building an array: the body may be as large as BODY_LIMIT_BYTES.
 */
export function characterCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}
