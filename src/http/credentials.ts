/**
 * A URL's user name and password are credentials. The global fetch refuses a URL holding them
 * ("Request cannot be constructed from a URL that includes credentials: <the whole URL>"), so they
 * go in an `Authorization: Basic` header instead, as curl sends them; and a URL is never logged
 * whole: its origin, without them and without its path (a webhook's path is often its secret).
 */

export interface SplitUrl {
  /** The URL without user name and password. */
  url: string;
  /** `Basic base64(user:password)` (percent-decoded, as curl does), when the URL held either. */
  authorization?: string;
}

/** The URL's credentials as an Authorization header, and the URL without them. */
export function splitCredentials(raw: string): SplitUrl {
  const url = new URL(raw);
  if (!url.username && !url.password) return { url: raw };
  const credential = basicCredential(decodeURIComponent(url.username), decodeURIComponent(url.password));
  url.username = '';
  url.password = '';
  return { url: url.href, authorization: `Basic ${credential}` };
}

/** base64(user:password), as an `Authorization: Basic` header carries them. */
export function basicCredential(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

/** What of a URL may be logged: scheme, host and port only (`<hidden>` when it is not a URL). */
export function shownOrigin(raw: string): string {
  try {
    const url = new URL(raw);
    return url.origin === 'null' ? `${url.protocol}…` : url.origin;
  } catch {
    return '<hidden>';
  }
}

/**
 * `text` with `raw` — as given, as the URL parser writes it, and without its credentials — and anything credentials-shaped
 * (`//user:password@`) replaced: the URL by its origin, the credentials by `<hidden>`.
 */
export function hideUrl(text: string, raw: string): string {
  let shown = text;
  const origin = shownOrigin(raw);
  const forms = [raw];
  try {
    forms.push(new URL(raw).href, splitCredentials(raw).url);
  } catch {
    // Not a URL: only its given form can appear.
  }
  for (const form of forms.sort((a, b) => b.length - a.length)) if (form) shown = shown.split(form).join(origin);
  return hideUrlCredentials(shown);
}

/** `text` with anything credentials-shaped in a URL (`//user:password@`) replaced by `//<hidden>@`. */
export function hideUrlCredentials(text: string): string {
  return text.replace(/\/\/[^/@\s]*@/g, '//<hidden>@');
}
