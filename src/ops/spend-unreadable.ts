/**
 * The budget check's "could not read the AI spend" line: while the store is down every AI call
 * would write it, so the first failure is written, then one line a minute with how many were left
 * out, and one line when the spend is read again (as BudgetLimits does for the limits).
 */
import type { Logger } from 'pino';
import { LogSummary, leftOutFields } from '../observe/log-summary.js';

export const SPEND_UNREADABLE = 'could not read the AI spend; answering without the budget check (logged once a minute while it lasts)';
export const SPEND_READABLE = 'the AI spend can be read again; the budget checks apply';

export class SpendUnreadableLog {
  /** Set while the spend cannot be read: when it began, the summary, the calls answered unchecked. */
  private unreadable: { since: number; lines: LogSummary; unchecked: number } | undefined;

  constructor(private readonly logger: Logger) {}

  /** A budget check could not read the spend (the call goes on unchecked). */
  failed(error: unknown, now = Date.now()): void {
    this.unreadable ??= { since: now, lines: new LogSummary(), unchecked: 0 };
    this.unreadable.unchecked++;
    const leftOut = this.unreadable.lines.take('unreadable', now);
    if (leftOut !== undefined) this.logger.warn({ err: error, ...leftOutFields(leftOut) }, SPEND_UNREADABLE);
  }

  /** A budget check read the spend: the end of an outage is told once. */
  read(now = Date.now()): void {
    if (!this.unreadable) return;
    const { since, unchecked } = this.unreadable;
    this.unreadable = undefined;
    this.logger.info({ unreadableSeconds: Math.round((now - since) / 1000), unchecked }, SPEND_READABLE);
  }
}
