/**
 * What became of a webhook's message(s), as its request line says it (`outcome`; README, Operations, Logs):
 * the one line a webhook gets at info, so a duplicate or a refused message is not just another 200.
 */

/**
 * `queued`: taken into the queue; `duplicate`: taken before (a redelivery), dropped; `rate_limited`:
 * refused by a limit; `ignored`: nothing to answer (a bot's message, an edit, a subtype or event
 * parley does not answer); `answered`: answered in this process (MODE=direct, or a platform that
 * never redelivers while the queue could not take it); `queue_full`: answered with a notice to send
 * it again; `control`: the platform's own traffic (a URL challenge, an SSL check, a ping, a status
 * callback); `bolt`: a Slack command, interaction or event handed to the app's Bolt listeners.
 */
export type Outcome = 'queued' | 'duplicate' | 'rate_limited' | 'ignored' | 'answered' | 'queue_full' | 'control' | 'bolt';

/** What became of one of a webhook's messages as the core took it (ingest, direct mode). */
export type MessageOutcome = 'queued' | 'duplicate' | 'rate_limited' | 'ignored' | 'answered';

// For a webhook with several messages, the one its line names: a refusal first (the answer says so too), then what was taken.
const RANK: Record<MessageOutcome, number> = { rate_limited: 4, answered: 3, queued: 3, duplicate: 2, ignored: 1 };

/** The webhook's outcome so far (`current`) with one more message's (`next`): no allocation, strings only. */
export function withOutcome(current: MessageOutcome | undefined, next: MessageOutcome): MessageOutcome {
  return current === undefined || RANK[next] > RANK[current] ? next : current;
}
