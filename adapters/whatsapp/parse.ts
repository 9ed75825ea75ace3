import { HttpError, mediaTypeOf, type HttpRequest } from 'parley/adapter-kit';

/** A webhook's parameters as Twilio signed them: a repeated name keeps every value. */
export type TwilioParams = Record<string, string | string[]>;

/**
 * The webhook body's parameters: a form (Twilio's default) or, for the `bodySHA256` variant, a
 * JSON object. Strict, so a body that is not what Twilio sends is a 400 rather than a guess.
 */
export function parseTwilioBody(request: HttpRequest): TwilioParams {
  const text = request.body.toString('utf8');
  try {
    return mediaTypeOf(request) === 'application/json' ? parseJson(text) : parseForm(text);
  } catch {
    throw new HttpError(400, 'malformed_body', 'The Twilio webhook body could not be parsed.');
  }
}

/** Parameters in an object with no prototype: a field named `toString` or `__proto__` is just a field. */
const noPrototype = (): TwilioParams => Object.create(null) as TwilioParams;

/** Twilio sends a few dozen fields; a body with more is not Twilio's (and is parsed before its signature can be checked). */
const MAX_FIELDS = 1000;

function parseForm(text: string): TwilioParams {
  const params = noPrototype();
  const pairs = text.split('&');
  if (pairs.length > MAX_FIELDS) throw new Error('too many fields');
  for (const pair of pairs) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    // decodeURIComponent throws on a broken %-escape, which URLSearchParams would silently mangle.
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    const name = decode(at === -1 ? pair : pair.slice(0, at));
    const value = at === -1 ? '' : decode(pair.slice(at + 1));
    const existing = params[name];
    if (existing === undefined) params[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else params[name] = [existing, value];
  }
  return params;
}

function parseJson(text: string): TwilioParams {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
  const params = noPrototype();
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === 'string') params[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') params[name] = String(value);
  }
  return params;
}

/** One parameter's value (the first, when repeated). */
export function param(params: TwilioParams, name: string): string | undefined {
  const value = params[name];
  return Array.isArray(value) ? value[0] : value;
}
