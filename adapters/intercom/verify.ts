import { HttpError, hmacMatches, type HttpRequest } from 'parley/adapter-kit';

/**
 * Verify Intercom's `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the raw body, keyed with the app's
 * client secret>` against any of the secrets (several while rotating), in constant time.
 * Intercom signs no timestamp, so replays are caught by de-duplication on the notification id.
 * Throws HttpError 401 with the reason.
 */
export function verifyIntercomSignature(request: HttpRequest, secrets: readonly string[]): void {
  const header = request.headers['x-hub-signature']?.trim();
  if (!header) throw new HttpError(401, 'missing_signature', 'The X-Hub-Signature header is required.');
  if (/^sha1=/i.test(header) && hmacMatches(header.slice('sha1='.length), secrets, request.body, 'sha1')) return;
  throw new HttpError(401, 'bad_signature', 'The Intercom signature does not match: check INTERCOM_CLIENT_SECRET.');
}
