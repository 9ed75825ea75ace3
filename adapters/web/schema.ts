/** What the web chat accepts on POST /web/messages. */
import { z } from 'zod';

export const webMessage = z.object({
  conversation: z.string().trim().min(1).max(200),
  text: z.string().trim().min(1).max(8000),
  /** A client-chosen id makes a resend idempotent. */
  id: z.string().min(1).max(200).optional(),
});
