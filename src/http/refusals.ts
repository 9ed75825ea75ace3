/**
 * A request a user caused to fail (an HttpError: a bad signature, a payload that does not fit…),
 * logged and counted once, the same way whether it came as a webhook (the router) or outside an
 * HTTP request (Slack Socket Mode, through AdapterContext.refused). Counted each time; the warning
 * is summarised (observe/log-summary.ts): a flood of bad signatures writes one line a minute, not one
 * a request.
 */
import type { Logger } from 'pino';
import type { HttpError } from '../errors.js';
import type { Metrics } from '../observe/index.js';
import { redactDeep } from '../observe/logger.js';
import { leftOutFields, logSummaryOf } from '../observe/log-summary.js';
import { InvalidPayloadError } from '../payload.js';

export function logRefusal(deps: { logger: Logger; metrics: Metrics }, platform: string | undefined, error: HttpError, remoteAddress?: string): void {
  if (platform) deps.metrics.webhooksRejected.inc({ platform, reason: error.reason });
  // Its kind is its text: two payloads that fail differently are both told (a few a minute: the text may be the sender's).
  const leftOut = logSummaryOf(deps.logger).takeOf(`refused ${platform ?? ''} ${error.reason}`, error.message);
  if (leftOut !== undefined) deps.logger.warn({ platform, reason: error.reason, status: error.status, remoteAddress, ...leftOutFields(leftOut) }, error.message);
  // The payload itself may hold a person's message: debug level only, its credentials redacted at any depth.
  if (error instanceof InvalidPayloadError && deps.logger.isLevelEnabled('debug')) deps.logger.debug({ platform, payload: redactDeep(error.payload) }, 'the payload that did not fit');
}
