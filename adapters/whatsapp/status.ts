/**
 * Twilio's status callbacks about parley's own sends. A reply Twilio took (its API said 201) and
 * then could not deliver (`failed` or `undelivered`, with an ErrorCode: 63016 outside the 24-hour
 * window, 30008 unknown…) is logged at warn and counted through the context
 * (`replyUndelivered` → parley_replies_undelivered_total{platform, code}), once per MessageSid:
 * Twilio may post the same callback again (a connection override's retries), or report one reply
 * `failed` and then `undelivered`, and the store (Redis, when shared) remembers which replies were
 * counted, for an hour.
 */
import { errorText, type AdapterContext } from 'parley/adapter-kit';

/** How long a counted callback is remembered: a retry comes within minutes. */
export const STATUS_SEEN_TTL_MS = 60 * 60_000;

/** One key per reply, whichever of the two statuses came first. */
export const statusKey = (sid: string) => `parley:whatsapp:undelivered:${sid}`;

export interface StatusCallback {
  sid?: string;
  status: string;
  errorCode?: string;
}

/** Log, and count a reply that never arrived; the callback is answered 200 whatever happens here. */
export async function noteStatus(context: AdapterContext | undefined, callback: StatusCallback): Promise<void> {
  const { sid, status, errorCode } = callback;
  if (status !== 'failed' && status !== 'undelivered') {
    context?.logger.debug({ sid, status }, 'Twilio status callback');
    return;
  }
  if (!context) return;
  if (sid && !(await firstTime(context, sid, status))) {
    context.logger.debug({ sid, status, errorCode }, 'a Twilio status callback repeated; counted already');
    return;
  }
  context.logger.warn({ sid, status, errorCode }, 'Twilio could not deliver a reply');
  context.replyUndelivered?.(errorCode);
}

/** True unless the store says this callback was counted already; a store that cannot say (Redis down) counts it. */
async function firstTime(context: AdapterContext, sid: string, status: string): Promise<boolean> {
  try {
    return await context.store.setIfAbsent(statusKey(sid), status, STATUS_SEEN_TTL_MS);
  } catch (error) {
    context.logger.debug({ sid, status, error: errorText(error) }, 'could not tell whether a Twilio status callback was counted already: counted');
    return true;
  }
}
