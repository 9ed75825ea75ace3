/**
 * The ack's deadline. A platform that counts a delivery as failed when its answer is late (Slack
 * after 3 s: `Adapter.ackWithinMs`) must have an answer in time however slow the store is: every
 * round trip of the ack (Intercom's part claims, the admit script, a refused message's notice, a
 * claim given back) comes out of one budget, counted from the request, and past it the answer is
 * 503. Verifying waits as long as it takes (a Bolt listener's own ack has Bolt's deadline); a
 * delivery whose verifying used up the budget is not taken at all. What is under way at the
 * deadline goes on: a step Redis carries out after all makes the platform's redelivery a
 * duplicate (answered once, by a worker), as after a command that timed out.
 */
import type { Logger } from 'pino';
import type { Adapter } from '../adapter.js';
import { leftOutFields, logSummaryOf } from '../observe/log-summary.js';
import { errorText } from '../queue/backoff.js';

/** The share of the platform's deadline the ack may spend; the rest is for the network and a busy event loop. */
const BUDGET_SHARE = 2 / 3;

/** How long a webhook of `adapter` may take before it is answered 503; undefined: no deadline. */
export function ackBudgetMs(adapter: Adapter): number | undefined {
  // A platform that never redelivers (Twilio) has its own way with a late step (take-again.ts).
  if (adapter.ackWithinMs === undefined || adapter.redelivers === false) return undefined;
  return Math.round(adapter.ackWithinMs * BUDGET_SHARE);
}

/** The ack ran out of its budget: answered 503 so the platform sends the delivery again. */
export class AckDeadlineError extends Error {
  /** `underWay`: the taking had begun and goes on (how it ends is told to `late`); false: nothing was taken. */
  constructor(budgetMs: number, ackWithinMs: number, readonly underWay = false) {
    super(`the message was not taken within ${budgetMs} ms (the platform waits ${ackWithinMs} ms for the answer): the store or the queue is slow; answering 503`);
    this.name = 'AckDeadlineError';
  }
}

/**
 * `take()`'s value, or an AckDeadlineError once `leftMs` have passed (at once, not taking, when
 * none is left). `late` is told how the work ended when that came after the deadline (its
 * rejection is never left unhandled).
 */
export function withinAckBudget<T>(take: () => Promise<T>, leftMs: number, ackWithinMs: number, late: (error?: unknown) => void): Promise<T> {
  const budgetMs = Math.round(ackWithinMs * BUDGET_SHARE);
  // Verifying it took the whole budget (an adapter's own store reads): nothing taken, the platform sends it again.
  if (leftMs <= 0) throw new AckDeadlineError(budgetMs, ackWithinMs);
  const work = take();
  // One promise and one timer per webhook (this is the ack's hot path): settled by whichever comes first.
  return new Promise<T>((resolve, reject) => {
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      reject(new AckDeadlineError(budgetMs, ackWithinMs, true));
    }, leftMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        if (expired) late();
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (expired) late(error);
        else reject(error);
      },
    );
  });
}

/**
 * How a webhook answered 503 at its deadline ended after all: what its redelivery will find. Under
 * an outage every webhook of a flood ends so: summarised per platform and outcome (a failure's text,
 * a few a minute), as a refusal's warning is.
 */
export function logLateAck(logger: Logger, platform: string, error: unknown): void {
  const summary = logSummaryOf(logger);
  if (error === undefined) {
    const leftOut = summary.take(`late ack taken ${platform}`);
    if (leftOut !== undefined) logger.info({ platform, ...leftOutFields(leftOut) }, 'a webhook answered 503 at its deadline was taken after all: its redelivery is a duplicate, answered once');
    return;
  }
  const leftOut = summary.takeOf(`late ack failed ${platform}`, errorText(error));
  if (leftOut !== undefined) logger.warn({ err: error, platform, ...leftOutFields(leftOut) }, 'a webhook answered 503 at its deadline failed after it: its redelivery is taken afresh');
}
