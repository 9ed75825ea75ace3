/**
 * A message of a platform that never redelivers (Twilio) whose ingest failed. When the failure
 * says nothing was done (Redis not connected), it is answered in this process at once. When
 * its outcome is unknown (a command that timed out after it was written: Redis, frozen or slow,
 * may still run it), answering it here could answer it twice, so it is ingested again first: the
 * delivery's claim makes that safe (a step that went through after all makes the next one a
 * duplicate, answered once, by a worker).
 */

/**
 * How long a message whose ingest may have gone through is offered to the queue again before it
 * is answered in this process. Twilio does not redeliver and the person waits meanwhile, so a few
 * seconds: enough for a stalled Redis (a fork, a failover, a paused VM) to answer, a few tries at
 * the fail-fast connection's 1.5 s command deadline.
 */
export const TAKE_AGAIN_WINDOW_MS = 5000;
/** The pause before the first try again, doubled after each failed one up to MAX_PAUSE_MS. */
const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 1000;

/**
 * Errors of a request that may have reached the server and been carried out: ioredis's command
 * deadline (the command was written; a frozen Redis runs it once it wakes) and its flush of the
 * commands in flight when a connection drops; a request timed out or cut after it was sent.
 */
const UNKNOWN_MESSAGES = new Set(['Command timed out']);
const UNKNOWN_NAMES = new Set(['MaxRetriesPerRequestError', 'TimeoutError']);
const UNKNOWN_CODES = new Set(['ETIMEDOUT', 'ECONNRESET', 'EPIPE']);

/**
 * Whether a failed ingest may have been carried out all the same. Other errors (ioredis's "Stream
 * isn't writeable" while Redis is not connected, a refused connection, an error Redis answered)
 * say that nothing was done: the message is answered in this process at once, as before.
 */
export function outcomeUnknown(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 3; cause = cause.cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (UNKNOWN_MESSAGES.has(cause.message) || UNKNOWN_NAMES.has(cause.name) || (typeof code === 'string' && UNKNOWN_CODES.has(code))) return true;
  }
  return false;
}

/**
 * Run `take` again, with a short backoff, until it succeeds or `windowMs` has passed. Returns
 * undefined once taken, else the last error (the caller answers the message in this process).
 */
export async function takeAgain(take: () => Promise<unknown>, windowMs = TAKE_AGAIN_WINDOW_MS): Promise<{ error: unknown } | undefined> {
  const giveUpAt = Date.now() + windowMs;
  let pauseMs = FIRST_PAUSE_MS;
  let failure: { error: unknown } = { error: new Error('not tried again: no time left') };
  while (Date.now() < giveUpAt) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(pauseMs, Math.max(0, giveUpAt - Date.now()))));
    try {
      await take();
      return undefined;
    } catch (error) {
      failure = { error };
      pauseMs = Math.min(2 * pauseMs, MAX_PAUSE_MS);
    }
  }
  return failure;
}
