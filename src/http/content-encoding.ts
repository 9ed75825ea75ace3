/**
 * parley reads bodies as they come: a compressed one (Content-Encoding: gzip, from a client or a
 * proxy) would be parsed as garbage and refused for the wrong reason (a Slack event "could not be
 * parsed" and dropped). Such a body is refused 415 for what it is, so the sender can send it plain.
 */
import { HttpError } from '../errors.js';
import type { HttpRequest } from '../adapter.js';

/** Throws a 415 when the request's body is encoded (anything but `identity`). */
export function refuseEncodedBody(request: HttpRequest): void {
  const encoding = request.headers['content-encoding'];
  if (encoding === undefined) return;
  const value = encoding.trim().toLowerCase();
  if (value === '' || value === 'identity') return;
  throw new HttpError(415, 'unsupported_content_encoding', `Send the body uncompressed: parley does not decode Content-Encoding "${encoding.slice(0, 40)}".`);
}
