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

/**
 * `text` with the user and password of each URL in it replaced by `<hidden>`, and nothing else:
 * `redis://<hidden>@host:6379 owner ops@example.com`. Whatever the password holds (a comma, a space,
 * `#`, `/`, `@`: the very mistakes that make a URL invalid), everything up to the `@` that the host
 * follows is hidden. That `@` is the first one followed by a host (a name with a dot, localhost, an
 * IP address, or a name with a port), an optional path, and then the text's end or a space after
 * which only e-mail addresses hold an `@`. Failing that, the last `@` before the next URL: hiding a
 * host is better than showing a password. The one reading left ambiguous: a password holding a
 * space after `@host.tld` or `@host:port`, and an e-mail address's shape before its own `@`.
 */
export function hideUrlCredentials(text: string): string {
  let shown = '';
  let from = 0;
  for (let start = text.indexOf('//'); start >= 0; start = text.indexOf('//', from)) {
    const userinfo = start + 2;
    const at = credentialsEnd(text, userinfo);
    if (at === undefined) {
      shown += text.slice(from, userinfo);
      from = userinfo;
    } else {
      shown += `${text.slice(from, userinfo)}<hidden>`;
      from = at;
    }
  }
  return shown + text.slice(from);
}

/** A path, then the URL's end: the text's end or a space, maybe after a comma, a stop or a bracket. */
const PATH_TO_END = String.raw`(?:[/?#][^\s@]*?)?(?=[,;.)>"']?(?:\s|$))`;
/** Right after `//`: a host (any, or none), so no user or password. */
const NO_CREDENTIALS = new RegExp(String.raw`^(?:(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d+)?)?${PATH_TO_END}`);
/** Right after an `@`: a host that reads as one even beside a password's own `@`s. */
const HOST = new RegExp(String.raw`^(?:(?:\[[0-9A-Fa-f:.]+\]|localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?::\d+)?|[A-Za-z0-9-]+:\d+)${PATH_TO_END}`);
/** An e-mail address: its domain ends in letters, and no port or path follows it (as a host's would). */
const EMAIL = /(?<![^\s<(["'])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![\w@-]|\.[\w-]|:\d|\/)/g;
/** Another URL's start (a scheme at a word's start: `//` inside a password is no URL's). */
const NEXT_URL = /(?<![^\s,;(<"'=])[A-Za-z][A-Za-z0-9+.-]*:\/\//g;

/** Where the URL whose user and password start at `userinfo` has its host (its `@`), or undefined when it has none. */
function credentialsEnd(text: string, userinfo: number): number | undefined {
  NEXT_URL.lastIndex = userinfo;
  const end = NEXT_URL.exec(text)?.index ?? text.length;
  const url = text.slice(userinfo, end);
  const hostAfter = (offset: number, host: RegExp) => {
    const found = host.exec(url.slice(offset));
    // What follows the URL's end holds no `@` but e-mail addresses'.
    return found !== null && !url.slice(offset + found[0].length).replace(EMAIL, '').includes('@');
  };
  if (hostAfter(0, NO_CREDENTIALS)) return undefined;
  let last: number | undefined;
  for (let at = url.indexOf('@'); at >= 0; at = url.indexOf('@', at + 1)) {
    if (hostAfter(at + 1, HOST)) return userinfo + at;
    last = userinfo + at;
  }
  return last;
}
