/**
 * A request a user caused to fail (an HttpError: a bad signature, a payload that does not fit…),
 * logged and counted once, the same way whether it came as a webhook (the router) or outside an
 * HTTP request (Slack Socket Mode, through AdapterContext.refused); and one that failed on our side
 * (Redis down). Counted each time; the warning or error is summarised
 * (observe/log-summary.ts): a flood of bad signatures writes one warning a minute, not one a
 * request (each request keeps its own request line, as issue 2 asks).
 */
import type { Logger } from 'pino';
import { HttpError } from '../errors.js';
import type { Received } from '../received.js';
import type { Metrics } from '../observe/index.js';
import { redactDeep } from '../observe/logger.js';
import { leftOutFields, logSummaryOf } from '../observe/log-summary.js';
import { errorText } from '../queue/backoff.js';
import { InvalidPayloadError } from '../payload.js';
import { BODY_ALREADY_PARSED } from './body.js';

/** `path`: the request's, when it came as one. */
export function logRefusal(deps: { logger: Logger; metrics: Metrics }, platform: string | undefined, error: HttpError, remoteAddress?: string, path?: string): void {
  if (platform) deps.metrics.webhooksRejected.inc({ platform, reason: error.reason });
  // Its kind is its text: two payloads that fail differently are both told (a few a minute: the text may be the sender's).
  const leftOut = logSummaryOf(deps.logger).takeOf(`refused ${platform ?? ''} ${error.reason}`, error.message);
  // A body parser mounted in front of parley is the embedding app's mistake of setup, not the sender's: error.
  const level = error.reason === BODY_ALREADY_PARSED ? 'error' : 'warn';
  if (leftOut !== undefined) deps.logger[level]({ platform, reason: error.reason, status: error.status, remoteAddress, path, ...leftOutFields(leftOut) }, error.message);
  // The payload itself may hold a person's message: debug level only, its credentials redacted at any depth.
  if (error instanceof InvalidPayloadError && deps.logger.isLevelEnabled('debug')) deps.logger.debug({ platform, payload: redactDeep(error.payload) }, 'the payload that did not fit');
}

/**
 * A request that failed on our side (Redis down), answered 503: counted on a webhook's path, and its
 * error line summarised per platform and error text (a few texts a minute), so an outage under a
 * platform's retries is a line a minute, not one a request.
 */
export function logFailure(deps: { logger: Logger; metrics: Metrics }, platform: string | undefined, error: unknown): void {
  if (platform) deps.metrics.webhooksRejected.inc({ platform, reason: 'unavailable' });
  const leftOut = logSummaryOf(deps.logger).takeOf(`failed ${platform ?? ''}`, errorText(error));
  if (leftOut !== undefined) deps.logger.error({ err: error, platform, ...leftOutFields(leftOut) }, 'request failed; answering 503 so the sender retries');
}

/**
 * A webhook's messages not taken on the platform's last delivery (`Received.lastDelivery`, Slack's
 * third retry): the platform never sends them again, so they are lost. Each is named at error on
 * its own line, never summarised (a flood's summary would hide it in a leftOut count); its
 * platform, delivery id and answer's status, never a message's text. The refusal or failure is
 * still counted and logged (summarised) as any other.
 */
export function logLostDelivery(logger: Logger, platform: string, lastDelivery: NonNullable<Received['lastDelivery']>, error: unknown): void {
  const status = error instanceof HttpError ? error.status : 503;
  if (status < 300) return; // answered as taken: the platform does not send it again, nor need it
  logger.error({ err: error, platform, delivery: lastDelivery.id, status }, "webhook not taken on the platform's last delivery; it is lost (it will not be sent again)");
}
