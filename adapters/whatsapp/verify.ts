import { HttpError, type HttpRequest } from 'parley/adapter-kit';
import type { TwilioParams } from './parse.js';
import { twilioSdk } from './sdk.js';

/**
 * Verify X-Twilio-Signature with the SDK against any of the auth tokens (several while rotating).
 * Twilio signs the exact URL it was configured with, so the URL parley rebuilt (PUBLIC_URL, or
 * Host and — with TRUST_PROXY — X-Forwarded-*) must match it: the error names the URL checked.
 * Throws HttpError 403.
 */
export function verifyTwilioSignature(request: HttpRequest, tokens: readonly string[], params: TwilioParams): void {
  const signature = request.headers['x-twilio-signature'];
  if (!signature) throw new HttpError(403, 'missing_signature', 'The X-Twilio-Signature header is required.');
  const twilio = twilioSdk('verifyTwilioSignature()');
  // The URL as it came: the SDK checks it first, then its re-encodings (the parsed URL's among them).
  const url = request.receivedUrl ?? request.url.href;
  const algorithm = supportedAlgorithm(twilio.getSignatureAlgorithm(request.headers['x-twilio-webhooks-signature-settings']));
  // The JSON variant signs the URL only; its body is covered by the bodySHA256 query parameter.
  const withBody = request.url.searchParams.has('bodySHA256');
  const body = request.body.toString('utf8');
  const valid = tokens.some((token) =>
    withBody ? twilio.validateRequestWithBody(token, signature, url, body, algorithm) : twilio.validateRequest(token, signature, url, params, algorithm),
  );
  if (valid) return;
  throw new HttpError(
    403,
    'bad_signature',
    `The X-Twilio-Signature does not match for ${shownUrl(request.url)}. Twilio signs the exact webhook URL set in its Console: ` +
      'if that URL is not the one above, set PUBLIC_URL to its public base (e.g. PUBLIC_URL=https://bot.example.com), or, behind a reverse proxy ' +
      'that sets X-Forwarded-Proto/X-Forwarded-Host, TRUST_PROXY=true. If the URL is right, check TWILIO_AUTH_TOKEN.',
  );
}

/**
 * The algorithms the installed SDK (twilio 6) checks, by the names its validateRequest compares in
 * upper case. It warns through console.warn, once per call, about any other — outside the logger,
 * quoting the header, before any signature is checked — so such a header is refused here instead.
 */
const SUPPORTED_ALGORITHMS = new Set(['HMAC_SHA1', 'HMAC_SHA256']);

/** The settings header's algorithm, if the SDK supports it; else a 403 as for a bad signature. */
function supportedAlgorithm(algorithm: string): string {
  if (SUPPORTED_ALGORITHMS.has(algorithm.toUpperCase())) return algorithm;
  throw new HttpError(
    403,
    'unsupported_signature_algorithm',
    `The X-Twilio-Webhooks-Signature-Settings header names an algorithm parley does not check (${JSON.stringify(algorithm.slice(0, 32))}); ` +
      `supported: ${[...SUPPORTED_ALGORITHMS].join(', ')}.`,
  );
}

/** The URL for a log line, without its query values (a user may put a secret in a webhook URL). */
function shownUrl(url: URL): string {
  return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
}
