/**
 * Telling the AI a file came with a message. The model sees only text (and, with AI_VISION, the
 * images): "please see the file" with invoice.pdf attached would otherwise read as a reference to
 * nothing. Platform-neutral: it reads the core message's `attachments`, whatever adapter filled them.
 */
import type { Attachment } from './message.js';

/** One line per attachment the model is not shown, e.g. "[attachment: invoice.pdf]". */
export function attachmentNotes(attachments: readonly Attachment[] | undefined, shownUrls: readonly string[] = []): string[] {
  return (attachments ?? [])
    .filter((attachment) => attachment.url === undefined || !shownUrls.includes(attachment.url))
    .map((attachment) => {
      // A name can hold anything the sender typed: one line, no closing bracket, not too long.
      const label = (attachment.name ?? attachment.contentType ?? '').replace(/[\s[\]]+/g, ' ').trim().slice(0, 120);
      return label ? `[attachment: ${label}]` : '[attachment]';
    });
}

/** The message's text as the AI gets it: the text, then a line naming each attachment it is not shown. */
export function textForAi(text: string, attachments: readonly Attachment[] | undefined, shownUrls?: readonly string[]): string {
  const notes = attachmentNotes(attachments, shownUrls);
  if (notes.length === 0) return text;
  return text.trim() === '' ? notes.join('\n') : `${text}\n${notes.join('\n')}`;
}
