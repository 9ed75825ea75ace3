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
