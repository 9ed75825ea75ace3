/**
 * The configured secrets' values, so a third party's error text that quotes one (a provider echoing
 * `Authorization: Bearer sk-…` back in a 400, Twilio quoting the auth token) is stored and logged
 * with `<hidden>` in its place. Filled as configuration is read (every variable marked secret, or
 * named like one, and a URL's password) and by the clients handed a key in code; with the
 * `Authorization: Basic` form of those sent as a user name and password (Twilio's SID and token).
 * Besides, by their shape, secrets parley never configured (an OAuth install's Slack token, a
 * proxy's key or token, a database URL a provider quotes): Slack tokens, OpenAI keys, the credential
 * after an authorization header's `Bearer`/`Basic`, and a URL's password.
 *
 * Applied where such text enters our errors (the AI's error classification, the adapters'
 * error builders, the Slack SDK's lines), to every error a log line holds (its serializer,
 * observe/logger.ts) and to every dead letter's error (errorText, queue/backoff.ts), not to every
 * log line.
 */

import { basicCredential, hideUrlPasswords, splitCredentials } from './http/credentials.js';

/** Shorter values are too likely to be ordinary words or numbers in a message. */
const MIN_LENGTH = 8;
const known = new Set<string>();
/** `known`, longest first (a secret inside a longer one is hidden with it); rebuilt when one is added. */
let longestFirst: string[] = [];
/**
 * Slack tokens by their shape (bot, user, refresh, app-level): those issued by OAuth, one per
 * workspace, are never configured, so they are not in `known`.
 */
const SLACK_TOKEN = /\b(?:xox[a-z]|xapp)-[A-Za-z0-9-]{8,}/g;
/** OpenAI-shaped keys (`sk-…`, `sk-proj-…`), which a provider quotes back in a 401 even when not ours (a proxy's). */
const OPENAI_KEY = /\bsk-[A-Za-z0-9_-]{20,}/g;
/**
 * The credential after `Bearer `/`Basic ` following an authorization header's name, as a header
 * (`Authorization: Bearer …`) or JSON (`"authorization":"Bearer …"`, also escaped in a string, once or
 * more: a proxy quoting the upstream's JSON error, itself a proxy's): a proxy's token is not ours to remember.
 */
const AUTHORIZATION_CREDENTIAL = /(authorization\\*['"]?\s*[:=]\s*\\*['"]?(?:bearer|basic)[ \t]+)[^\s'"`,;)}\]\\]+/gi;

/** Remember secret values (a comma-separated list is remembered entry by entry, too). */
export function rememberSecrets(...values: (string | undefined)[]): void {
  for (const value of values) {
    if (typeof value !== 'string') continue;
    for (const one of [value, ...value.split(',')]) {
      const trimmed = one.trim();
      if (trimmed.length >= MIN_LENGTH && !known.has(trimmed)) {
        known.add(trimmed);
        longestFirst = [...known].sort((x, y) => y.length - x.length);
      }
    }
  }
}

/**
 * Remember the `Authorization: Basic` credential a client sends for `user` with each password,
 * base64(user:password): an error quoting the request's headers (Twilio's, a proxy's) holds that,
 * not the password.
 */
export function rememberBasicCredentials(user: string | undefined, ...passwords: (string | undefined)[]): void {
  if (!user) return;
  for (const password of passwords) if (password) rememberSecrets(basicCredential(user, password));
}

/** The Basic credential a URL's user name and password are sent as (splitCredentials), if it has them. */
export function urlBasicCredential(value: string): string[] {
  try {
    const { authorization } = splitCredentials(value);
    return authorization ? [authorization.slice('Basic '.length)] : [];
  } catch {
    return [];
  }
}

/** The password in a URL-shaped value (as written and percent-decoded), if it has one. */
export function urlPassword(value: string): string[] {
  try {
    const { password } = new URL(value);
    if (!password) return [];
    try {
      return [password, decodeURIComponent(password)];
    } catch {
      return [password];
    }
  } catch {
    return [];
  }
}

/**
 * `text` with every remembered secret, anything shaped like a Slack token or an OpenAI key, the
 * credential of an authorization header and a URL's password replaced by `<hidden>`. Each pattern
 * runs only when a cheap `includes` leaves it a chance: this runs on every error's text.
 */
export function hideSecrets(text: string): string {
  if (!text) return text;
  let shown = text.includes('-') ? text.replace(SLACK_TOKEN, '<hidden>') : text;
  // The remembered values before the other shapes: one of those could take a part of a value, leaving the rest shown.
  for (const secret of longestFirst) if (shown.includes(secret)) shown = shown.split(secret).join('<hidden>');
  if (shown.includes('sk-')) shown = shown.replace(OPENAI_KEY, '<hidden>');
  if (shown.includes('uthorization') || shown.includes('UTHORIZATION')) shown = shown.replace(AUTHORIZATION_CREDENTIAL, '$1<hidden>');
  return shown.includes('://') ? hideUrlPasswords(shown) : shown;
}

/**
 * The same, in place, over an error and its causes' messages and stacks (what a log line's `err`
 * and a dead letter's reason are made of). Returns the error.
 */
export function hideSecretsIn<E>(error: E): E {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    const message = hideSecrets(e.message);
    if (message !== e.message) e.message = message;
    if (typeof e.stack === 'string') {
      const stack = hideSecrets(e.stack);
      if (stack !== e.stack) e.stack = stack;
    }
  }
  return error;
}

/**
 * A setting's value with a URL's user and password hidden: everything from the first `//` to the
 * last `@`, whatever the password holds (a comma, a space, `#`, `/` or `@`: the very mistakes that
 * make a URL invalid). A value is one setting, so hiding an e-mail address or a host beside the URL
 * costs little; reading a password with a space in it as a host and an e-mail address
 * (`u:123 abc@db.example.com`, which hideUrlCredentials cannot tell apart) would show it.
 */
export function hideValueCredentials(value: string): string {
  return hidePartOfValue(value, 0, value.length);
}

/**
 * `value.slice(from, to)` (a part of a setting's value, e.g. one of a list's items) with what
 * hideValueCredentials hides in the whole value hidden: a password holding a comma spans two items.
 */
export function hidePartOfValue(value: string, from: number, to: number): string {
  const start = value.indexOf('//') + 2;
  const at = value.lastIndexOf('@');
  if (start < 2 || at < start || to <= start || from >= at) return value.slice(from, to);
  return `${value.slice(from, Math.max(from, start))}<hidden>${value.slice(Math.min(Math.max(at, from), to), to)}`;
}
