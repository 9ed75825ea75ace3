/**
 * What the intake pump reports (IntakePumpOptions.onError), as log lines. A pump that cannot reach
 * Redis, or is refused by it (a rotated password), fails every few seconds for as long as that
 * lasts: one line a minute, with how many were left out, not a stack trace every 6 s. Entries it
 * had to drop, and its group found gone (Redis lost its data), are told each time: each is a loss; a
 * Redis older than 6.2 (no XAUTOCLAIM) once, without a stack.
 */
import type { Logger } from 'pino';
import { leftOutFields, logSummaryOf } from '../observe/log-summary.js';
import { DROPPED_ENTRIES, NO_AUTOCLAIM } from './intake-entry.js';
import { GROUP_LOST } from './intake.js';

export function pumpErrorLog(logger: Pick<Logger, 'warn' | 'error'> | undefined): (error: unknown) => void {
  return (error) => {
    if (!logger) return;
    if (error instanceof Error && error.message.endsWith(DROPPED_ENTRIES)) return void logger.warn({ err: error }, 'the intake held entries that are no job; they were dropped');
    if (error instanceof Error && error.message === NO_AUTOCLAIM) return void logger.error(NO_AUTOCLAIM);
    if (error instanceof Error && error.message === GROUP_LOST) return void logger.warn({ err: error }, 'moving admitted jobs from the intake into the queue failed; trying again');
    const leftOut = logSummaryOf(logger).take('intake pump failing');
    if (leftOut !== undefined) logger.warn({ err: error, ...leftOutFields(leftOut) }, 'moving admitted jobs from the intake into the queue failed; trying again');
  };
}
