/**
 * A worker's hold on a received message. Polling: SQS hides it for the visibility timeout, which
 * the worker renews every third of it while it has the message. Should the renewals fail (SQS
 * erroring or unreachable) until the timeout runs out, SQS hands the message to another worker,
 * and from then on this one must post nothing of it: BullMQ's "lock lost", for SQS.
 *
 * On Lambda nothing is renewed: the queue's visibility timeout outlasts the function's (Lambda
 * checks it). But a message the function still has when its timeout stops it would stay hidden
 * for the rest of that visibility timeout (often 15 minutes), so shortly before, the lease gives it
 * back: visible again a few seconds after the function is stopped, for the next invocation to retry.
 */
export interface Lease {
  /** False once the message may be another worker's: less than one renewal period is left of the visibility SQS last granted (for good once it ran out), or the process's end (stopsAt) has passed. */
  held(): boolean;
  /** No more renewals and no giving back (the message is done, or hidden or given back for a while). */
  stop(): void;
}

/** How long before the process is stopped its messages are given back: time for a ChangeMessageVisibility to land. */
const GIVE_BACK_LEAD_MS = 2000;
/** A message given back is visible again about this long after the process is stopped (at least 2.5 s, rounding), never while it could still post. */
const GIVE_BACK_GRACE_SECONDS = 3;
/** Longest visibility timeout SQS accepts (ChangeMessageVisibility takes 0 to 43,200 s). */
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

/**
 * Keep a message hidden with `changeVisibility` (a ChangeMessageVisibility of the seconds given),
 * from `receivedAt` (when its receive answered, epoch ms). `visibilitySeconds`: renewed by that
 * every third of it (polling); undefined, never (Lambda). A renewal counts from when it was asked:
 * SQS starts the new timeout between the ask and the answer. `stopsAt` (epoch ms, Lambda's
 * timeout): GIVE_BACK_LEAD_MS before it, the message is given back, unless stop() came first.
 */
export function holdMessage(changeVisibility: (seconds: number) => Promise<void>, visibilitySeconds: number | undefined, receivedAt = Date.now(), stopsAt?: number): Lease {
  const renewals = visibilitySeconds === undefined ? undefined : renewEvery(changeVisibility, visibilitySeconds, receivedAt);
  let giveBack: NodeJS.Timeout | undefined;
  if (stopsAt !== undefined) {
    giveBack = setTimeout(() => {
      renewals?.stop();
      // Rounded, not ceiled: a timer fires a millisecond early or late, and a batch's messages should come back together.
      const seconds = Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.round((stopsAt - Date.now()) / 1000)) + GIVE_BACK_GRACE_SECONDS);
      // Failing, the message comes back when its visibility timeout ends, as it did before.
      changeVisibility(seconds).catch(() => undefined);
    }, Math.max(0, stopsAt - GIVE_BACK_LEAD_MS - Date.now()));
    giveBack.unref();
  }
  return {
    // Past stopsAt the message may be the next invocation's (a process that outlives its deadline must post nothing more).
    held: () => (renewals?.held() ?? true) && (stopsAt === undefined || Date.now() < stopsAt),
    stop: () => {
      renewals?.stop();
      clearTimeout(giveBack);
    },
  };
}

function renewEvery(renew: (seconds: number) => Promise<void>, visibilitySeconds: number, receivedAt: number): Lease {
  const visibilityMs = visibilitySeconds * 1000;
  const periodMs = visibilityMs / 3;
  let hiddenUntil = receivedAt + visibilityMs;
  const timer = setInterval(() => {
    const asked = Date.now();
    renew(visibilitySeconds).then(
      () => {
        // Answered once the visibility may have run out: another worker may have received the message meanwhile (SQS may
        // still take an old receipt handle), so the hold is not taken back.
        if (Date.now() < hiddenUntil) hiddenUntil = Math.max(hiddenUntil, asked + visibilityMs);
      },
      () => undefined, // the next renewal tries again; held() says when it is too late
    );
  }, periodMs);
  timer.unref();
  // A period's margin: a post begun just before the timeout ends must land (and be marked) before another worker's run could post.
  return { held: () => Date.now() < hiddenUntil - periodMs, stop: () => clearInterval(timer) };
}
