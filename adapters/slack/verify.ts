import { HttpError, hmacMatches, type HttpRequest } from 'parley/adapter-kit';

/** Slack signs `v0:<timestamp>:<raw body>`; requests older or newer than this are refused. */
const MAX_SKEW_SECONDS = 5 * 60;

/**
 * Verify Slack's v0 signature against any of the signing secrets (several while rotating).
 * Unlike Bolt's own check, a timestamp from the future is refused too: it would let a captured
 * request be replayed for longer. Throws HttpError 401 with the reason.
 */
export function verifySlackSignature(request: HttpRequest, secrets: readonly string[], nowSeconds = Math.floor(Date.now() / 1000)): void {
  const signature = request.headers['x-slack-signature'];
  const timestamp = request.headers['x-slack-request-timestamp'];
  if (!signature || !timestamp) throw new HttpError(401, 'missing_signature', 'The X-Slack-Signature and X-Slack-Request-Timestamp headers are required.');
  const ts = Number(timestamp);
  if (!Number.isInteger(ts)) throw new HttpError(401, 'bad_timestamp', 'X-Slack-Request-Timestamp is not a number.');
  if (Math.abs(nowSeconds - ts) > MAX_SKEW_SECONDS) {
    throw new HttpError(401, 'stale_timestamp', `The request timestamp is more than 5 minutes ${ts > nowSeconds ? 'ahead' : 'old'}; check the clock.`);
  }
  if (signature.startsWith('v0=') && hmacMatches(signature.slice(3), secrets, [`v0:${timestamp}:`, request.body])) return;
  throw new HttpError(401, 'bad_signature', 'The Slack signature does not match: check SLACK_SIGNING_SECRET.');
}
