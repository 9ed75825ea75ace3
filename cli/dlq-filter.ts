/**
 * `parley dlq list --user ID --conversation TEXT`: the dead letters of one customer, found by what
 * support knows, as the console's conversations filters find them (README "Finding one message").
 */
import type { DeadLetter } from '../src/index.js';

export interface LetterFilter {
  /** The person's user id on the platform, exactly (a Slack user id, a WhatsApp number's digits). */
  user?: string;
  /** A part of the conversation's id (a Slack channel id, a WhatsApp number), any case; or the letter's request id or job id, exactly. */
  conversation?: string;
}

/** What a letter's data says of its message (a notice names only its conversation; a letter that is no parley job, nothing). */
function partsOf(data: unknown): { user?: string; conversation?: string; requestId?: string } {
  const job = (data ?? {}) as { message?: { user?: { id?: unknown }; conversation?: { id?: unknown } }; conversation?: { id?: unknown }; requestId?: unknown };
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { user: text(job.message?.user?.id), conversation: text(job.message?.conversation?.id ?? job.conversation?.id), requestId: text(job.requestId) };
}

/** Whether `letter` passes every filter given (none given: every letter does). */
export function letterMatches(letter: Pick<DeadLetter<unknown>, 'id' | 'data'>, filter: LetterFilter): boolean {
  const parts = partsOf(letter.data);
  if (filter.user !== undefined && parts.user !== filter.user) return false;
  const which = filter.conversation;
  if (which === undefined) return true;
  return (parts.conversation?.toLowerCase().includes(which.toLowerCase()) ?? false) || parts.requestId === which || letter.id === which;
}
