/**
 * A mention added by an edit. Slack sends a message that mentions the app again as `app_mention`
 * each time it is edited (same ts, a new event_id, `edited`): when the edit added the mention (a
 * user who forgot the tag adds it, as Bolt's app_mention listener would answer), and when it only
 * fixed a typo in a message the bot answered already. The first is answered once; the second not
 * again. Which it is, the store tells: a message the bot took (a mention, or a follow-up in its
 * thread) made its thread the bot's, so an edited mention is taken only while its thread is not
 * (fast-path.ts reads that, for edited mentions only). An edit long after the message is ignored:
 * by then a thread's marker may have expired.
 */

/** How long after a message an edit that mentions the bot may still be answered (the thread marker lasts a week). */
const EDIT_WINDOW_SECONDS = 24 * 60 * 60;

/** Whether the message at `ts` was edited (`edited.ts`) within EDIT_WINDOW_SECONDS of being sent. */
export function editedRecently(ts: string, edited: unknown): boolean {
  const at = Number((edited as { ts?: unknown } | null)?.ts);
  const sent = Number(ts);
  return Number.isFinite(at) && Number.isFinite(sent) && at - sent <= EDIT_WINDOW_SECONDS;
}

/**
 * The delivery id of a mention added by an edit: the message's, not the event's, so two edits of
 * one message (each its own event_id) delivered at once are taken once.
 */
export function editedMentionId(team: string, channel: string, ts: string): string {
  return `${team}.${channel}.${ts}.edited`;
}
