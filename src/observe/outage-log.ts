/**
 * The lines of something that fails on every use while an outage lasts (the store read by each
 * budget check): the first failure is written, then one line a minute with how many were left out,
 * and one line when it works again, saying for how long it did not and how many uses went on
 * without it.
 */
import type { Logger } from 'pino';
import { LogSummary, leftOutFields } from './log-summary.js';

export class OutageLog {
  /** Set while it fails: when it began, the summary of its lines, the uses that failed. */
  private outage: { since: number; lines: LogSummary; failures: number } | undefined;

  /** `failing` and `working`: the warn line while it fails, the info line when it works again. */
  constructor(
    private readonly logger: Logger,
    private readonly failing: string,
    private readonly working: string,
  ) {}

  /** A use failed: written unless a line was written less than a minute ago (then counted). */
  failed(error: unknown, fields: Record<string, unknown> = {}, now = Date.now()): void {
    this.outage ??= { since: now, lines: new LogSummary(), failures: 0 };
    this.outage.failures++;
    const leftOut = this.outage.lines.take('failing', now);
    if (leftOut !== undefined) this.logger.warn({ err: error, ...fields, ...leftOutFields(leftOut) }, this.failing);
  }

  /** A use worked: the end of an outage is told once (with the count of failed uses as `countAs`, if named). */
  worked(countAs?: string, now = Date.now()): void {
    if (!this.outage) return;
    const { since, failures } = this.outage;
    this.outage = undefined;
    this.logger.info({ unreadableSeconds: Math.round((now - since) / 1000), ...(countAs ? { [countAs]: failures } : {}) }, this.working);
  }
}
