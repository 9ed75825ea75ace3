import { createHmac, timingSafeEqual } from 'node:crypto';
import { HttpError, type HttpRequest } from '../../src/index.js';

/**
 * Verify Intercom's `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the raw body, keyed with the app's
 * client secret>` against any of the secrets (several while rotating), in constant time.
 * Intercom signs no timestamp, so replays are caught by de-duplication on the notification id.
 * Throws HttpError 401 with the reason.
 */
export function verifyIntercomSignature(request: HttpRequest, secrets: readonly string[]): void {
  const header = request.headers['x-hub-signature']?.trim();
  if (!header) throw new HttpError(401, 'missing_signature', 'The X-Hub-Signature header is required.');
  // Hex is case-insensitive; compare one canonical form.
  const given = Buffer.from(header.toLowerCase());
  for (const secret of secrets) {
    const expected = Buffer.from(`sha1=${createHmac('sha1', secret).update(request.body).digest('hex')}`);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
  }
  throw new HttpError(401, 'bad_signature', 'The Intercom signature does not match: check INTERCOM_CLIENT_SECRET.');
}
