/**
 * One data event of a web chat stream. By default the whole transcript, `{ messages }`, as GET
 * answers it. A stream opened with `?changes=1` (the chat page's) gets that first, then only what
 * changed: `{ dropped, added }`, its oldest `dropped` entries gone (the transcript is capped) and
 * `added` appended. The whole transcript of 200 long answers is some 0.5 MB, sent twice an
 * exchange (the question, the answer) to every open tab; a change is one entry, a few KB.
 * A transcript is only appended to and trimmed from its oldest end (or erased whole), and each
 * stored item is unique, so the newest item sent, found again, tells what changed; not found
 * (erased, or trimmed past it), the whole transcript goes again.
 */
import type { TranscriptSnapshot } from './watch.js';

/** What a stream sent last: its newest stored item ('' for none) and how many entries it had. */
export interface SentTranscript {
  last: string;
  count: number;
}

export function transcriptEvent(snapshot: TranscriptSnapshot, sent: SentTranscript | undefined, changes: boolean): string {
  const kept = changes && sent && sent.last !== '' ? snapshot.items.lastIndexOf(sent.last) + 1 : 0;
  const dropped = sent ? sent.count - kept : 0;
  const body = kept > 0 && dropped >= 0 ? { dropped, added: snapshot.messages.slice(kept) } : { messages: snapshot.messages };
  return `data: ${JSON.stringify(body)}\n\n`;
}
