/**
 * A polling worker's hold on a received message: SQS hides it for the visibility timeout, which
 * the worker renews every third of it while it has the message. Should the renewals fail (SQS
 * erroring or unreachable) until the timeout runs out, SQS hands the message to another worker,
 * and from then on this one must post nothing of it: BullMQ's "lock lost", for SQS.
 */
export interface Lease {
  /** False once the message may be another worker's: less than one renewal period is left of the visibility SQS last granted (for good once it ran out). */
  held(): boolean;
  /** No more renewals (the message is done, or hidden or given back for a while). */
  stop(): void;
}

/**
 * Keep a message hidden with `renew` (a ChangeMessageVisibility of `visibilitySeconds`), from
 * `receivedAt` (when its receive answered, epoch ms). A renewal counts from when it was asked:
 * SQS starts the new timeout between the ask and the answer.
 */
export function holdMessage(renew: () => Promise<void>, visibilitySeconds: number, receivedAt = Date.now()): Lease {
  const visibilityMs = visibilitySeconds * 1000;
  const periodMs = visibilityMs / 3;
  let hiddenUntil = receivedAt + visibilityMs;
  const timer = setInterval(() => {
    const asked = Date.now();
    renew().then(
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
