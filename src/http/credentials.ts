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
 * host is better than showing a password. A URL's start with no space before it (`p,x://y@host`) is
 * read as the password's when an `@` follows, or the URL before it reads as no host: a list of URLs
 * without spaces is hidden as one (`p@h.io,x://y@host` may be either). The readings
 * left ambiguous, both with a space in the password: after it `@host.tld` or `@host:port` and an
 * e-mail address's shape before its own `@`, or a URL's start (`pass word x://y@host`: two URLs).
 * One pass over the text (a long log line stays quick).
 */
export function hideUrlCredentials(text: string): string {
  return replaceUrlCredentials(text, () => '<hidden>');
}

/** After a URL's `//`, a user name (no space, `/`, `?` or `#`) and a `:`: the only texts that can hold a password. */
const USER_THEN_COLON = /\/\/[^\s/?#:]*:/;

/**
 * `text` with the password of each URL in it replaced by `<hidden>`, its scheme, user name and host
 * kept (`postgres://app:<hidden>@db.example.com`): for any text, a third party's error quoting a URL
 * parley never configured. The password's end is found as hideUrlCredentials finds it; a URL
 * without a password (`https://user@host`, `https://host:8080/`) is left as it is, and so is a
 * reading whose "user name" holds a space or a path (a file URL in a stack: `file:///app/@scope/x.js:1:2`),
 * and a host:port whose path a space ends (`http://localhost:8080/v1 failed … /node_modules/@scope/x.js`).
 */
export function hideUrlPasswords(text: string): string {
  if (!text.includes('@') || !USER_THEN_COLON.test(text)) return text;
  return replaceUrlCredentials(text, (userinfo) => {
    const space = userinfo.search(/\s/);
    if (space < 0) return passwordHidden(userinfo);
    // Read across a space, the "password" is a port, a path and prose up to an `@scope/` in a stack or a
    // user@host: a quoted URL's password holds no space, so its `@` comes before the first one.
    const at = userinfo.lastIndexOf('@', space);
    return at < 0 ? userinfo : passwordHidden(userinfo.slice(0, at)) + userinfo.slice(at);
  });
}

/** `user:password` as `user:<hidden>`; left as it is without a password, or when the user name holds a space or a path. */
function passwordHidden(userinfo: string): string {
  const colon = userinfo.indexOf(':');
  const user = userinfo.slice(0, colon);
  return colon < 0 || colon === userinfo.length - 1 || /[\s/?#]/.test(user) ? userinfo : `${user}:<hidden>`;
}

/** `text` with each URL's user and password (what lies between its `//` and the `@` its host follows) as `replace` gives it. */
function replaceUrlCredentials(text: string, replace: (userinfo: string) => string): string {
  const marks = marksOf(text);
  let shown = '';
  let from = 0;
  for (let start = text.indexOf('//'); start >= 0; start = text.indexOf('//', from)) {
    const userinfo = start + 2;
    const at = credentialsEnd(text, marks, userinfo);
    if (at === undefined) {
      shown += text.slice(from, userinfo);
      from = userinfo;
    } else {
      shown += `${text.slice(from, userinfo)}${replace(text.slice(userinfo, at))}`;
      from = at;
    }
  }
  return shown + text.slice(from);
}

/** A path, then the URL's end: the text's end or a space, maybe after a comma, a stop or a bracket. */
const PATH_TO_END = String.raw`(?:[/?#][^\s@]*?)?(?=[,;.)>"']?(?:\s|$))`;
/** Right after `//`: a host (any, or none), so no user or password; then the URL's end, or a path (ANY_HOST_PATH). */
const ANY_HOST = String.raw`^(?:(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d+)?)?`;
const ANY_HOST_END = new RegExp(String.raw`${ANY_HOST}(?=[,;.)>"']?(?:\s|$))`);
const ANY_HOST_PATH = new RegExp(String.raw`${ANY_HOST}[/?#]`);
/** Right after an `@`: a host that reads as one even beside a password's own `@`s. */
const HOST = new RegExp(String.raw`^(?:(?:\[[0-9A-Fa-f:.]+\]|localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?::\d+)?|[A-Za-z0-9-]+:\d+)${PATH_TO_END}`);
/** An e-mail address: its domain ends in letters, and no port or path follows it (as a host's would). */
const EMAIL = /(?<![^\s<(["'])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![\w@-]|\.[\w-]|:\d|\/)/g;
/** Another URL's start (a scheme at a word's start: `//` inside a password is no URL's). */
const NEXT_URL = /(?<![^\s,;(<"'=])[A-Za-z][A-Za-z0-9+.-]*:\/\//g;

/** The text's `@`s, those outside e-mail addresses, and the URLs' starts, found once: a long line stays one pass. */
interface Marks {
  ats: number[];
  bareAts: number[];
  urls: number[];
  /** URL starts right after a space: a password without spaces runs on past the others. */
  spacedUrls: number[];
  spaces: number[];
}

function marksOf(text: string): Marks {
  const ats: number[] = [];
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) ats.push(at);
  const inEmails = new Set<number>();
  for (const email of text.matchAll(EMAIL)) inEmails.add(email.index + email[0].indexOf('@'));
  const urls = [...text.matchAll(NEXT_URL)].map((url) => url.index);
  const spaces = [...text.matchAll(/\s/g)].map((space) => space.index);
  return { spaces, ats, bareAts: ats.filter((at) => !inEmails.has(at)), urls, spacedUrls: urls.filter((url) => url > 0 && /\s/.test(text[url - 1]!)) };
}

/** Where in the sorted `list` its first number at `from` or later is (its length: none). */
function indexFrom(list: number[], from: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list[middle]! < from) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The first of the sorted `list` at `from` or later (Infinity: none). */
const firstFrom = (list: number[], from: number): number => list[indexFrom(list, from)] ?? Infinity;

/** Where the URL whose user and password start at `userinfo` has its host (its `@`), or undefined when it has none. */
function credentialsEnd(text: string, marks: Marks, userinfo: number): number | undefined {
  // What follows the URL's end (`end`) holds no `@` but e-mail addresses'.
  const hostAfter = (offset: number, end: number, host: RegExp) => {
    const found = host.exec(text.slice(offset, end));
    return found !== null && firstFrom(marks.bareAts, offset + found[0].length) >= end ? offset + found[0].length : undefined;
  };
  let end = Math.min(firstFrom(marks.urls, userinfo), text.length);
  const spaced = Math.min(firstFrom(marks.spacedUrls, userinfo), text.length);
  const hostEnd = hostAfter(userinfo, end, ANY_HOST_END) ?? hostAndPath(text, marks, userinfo, end);
  // A host read up to the next URL's start with no space between (`u:9/,x://y@host`): a password's, when an `@` not an e-mail address's follows.
  const cut = hostEnd !== undefined && end < spaced && firstFrom(marks.spaces, hostEnd) >= end && firstFrom(marks.bareAts, end) < spaced;
  if (hostEnd !== undefined && !cut) return undefined;
  const first = indexFrom(marks.ats, userinfo);
  const firstAt = marks.ats[first];
  if (firstAt === undefined) return undefined;
  // Neither a host nor an `@` before the next URL's start: that start is in the password (`p,x://y@host`).
  if (firstAt >= end) end = Math.min(firstFrom(marks.urls, firstAt), spaced);
  // A later URL's start with no space before it and an `@` after it (`p@h.io,x://y@host`; in its word, even an
  // e-mail address's shape): a list, or a password's.
  if (firstFrom(marks.ats, end) < firstFrom(marks.spaces, end) || firstFrom(marks.bareAts, end) < spaced) end = spaced;
  let last: number | undefined;
  for (let i = first; i < marks.ats.length && marks.ats[i]! < end; i++) {
    const at = marks.ats[i]!;
    if (hostAfter(at + 1, end, HOST) !== undefined) return at;
    last = at;
  }
  return last;
}

/**
 * Where the path ends when a host and a path start at `userinfo`, and the path runs to a space or the URL's `end`
 * with no `@` in it, after which only e-mail addresses hold an `@`. Found from the marks, not by
 * reading the path: the `//`s in a long path each start one (a regex would read it again for each).
 */
function hostAndPath(text: string, marks: Marks, userinfo: number, end: number): number | undefined {
  const found = ANY_HOST_PATH.exec(text.slice(userinfo, end));
  if (found === null) return undefined;
  const path = userinfo + found[0].length;
  const pathEnd = Math.min(firstFrom(marks.ats, path), firstFrom(marks.spaces, path), end);
  return text[pathEnd] !== '@' && firstFrom(marks.bareAts, pathEnd) >= end ? pathEnd : undefined;
}
