/**
 * Visitor sessions: a visitor is a 128-bit random id, and a session is that id signed with
 * WEB_SESSION_SECRET (HMAC-SHA256) together with its expiry:
 *
 *   v1.<visitor>.<expiresAtMs>.<base64url hmac>
 *
 * The same token travels as the `parley_web` cookie (30 days) and as a short-lived bearer token
 * (1 hour) for widgets in an iframe on another site. An event stream's URL carries a token of
 * its own kind instead (`s1.…`, as long as the bearer token), taken by that route alone: a URL
 * ends up in proxies' access logs, and what is found there must not start or renew a session.
 * A renew token (`r1.…`, 30 days like the cookie) is the cookie's stand-in for a frame on another
 * site, which gets no cookie: taken by POST /web/sessions alone (as a bearer), it renews that
 * visitor once the hour-long bearer token has expired, and reads or posts nothing.
 * Nothing is stored: any process with the secret verifies it.
 *
 * While the secret is rotated there are several (WEB_SESSION_SECRET=<new>,<old>): the first signs,
 * any verifies, so sessions signed with the old one keep working, and renewing one re-signs it
 * with the new one for the same visitor.
 */
import { randomBytes } from 'node:crypto';
import { hmac, readCookies, safeEqual } from 'parley/adapter-kit';

export const SESSION_COOKIE = 'parley_web';
export const COOKIE_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const BEARER_TTL_MS = 60 * 60 * 1000;

/** A fresh 128-bit random id, base64url (22 characters): visitors and minted conversations. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

export interface Session {
  visitor: string;
  expiresAt: Date;
}

export interface Sessions {
  /** A token for `visitor` (a new visitor when absent) valid for `ttlMs`. */
  issue(ttlMs: number, visitor?: string, now?: number): { token: string } & Session;
  /** The session a token carries, or undefined when it is malformed, forged or expired. */
  verify(token: string, now?: number): Session | undefined;
  /** A renew token for `visitor` valid for `ttlMs`: renews its session at POST /web/sessions, nothing else. */
  issueRenew(ttlMs: number, visitor: string, now?: number): { token: string } & Session;
  /** The visitor a renew token names (never a session or stream token, nor the other way round). */
  verifyRenew(token: string, now?: number): Session | undefined;
  /** The event-stream token for a session (same visitor and expiry), for `?session=`. */
  streamToken(session: Session): string;
  /** The session an event-stream token carries (never a session token, nor the other way round). */
  verifyStream(token: string, now?: number): Session | undefined;
}

const VISITOR = /^[A-Za-z0-9_-]{22}$/;
/** v1: a session (cookie or bearer); s1: an event stream's, only in its URL; r1: renews a session, only at POST /web/sessions. */
type Kind = 'v1' | 's1' | 'r1';

/** The secrets of a comma-separated list (or of a list), trimmed, empty ones dropped. */
export function sessionSecretList(secrets: string | readonly string[] | undefined): string[] {
  const given = typeof secrets === 'string' ? secrets.split(',') : (secrets ?? []);
  return given.map((secret) => secret.trim()).filter(Boolean);
}

/** Sign sessions with the first of `secrets` (a comma-separated list, or a list) and check them with any. */
export function sessions(secrets: string | readonly string[]): Sessions {
  const keys = sessionSecretList(secrets);
  const [signing] = keys;
  if (!signing) throw new Error('a session secret is required');
  // The kind is signed with the rest: a stream or renew token cannot be relabelled as a session token.
  const sign = (secret: string, kind: Kind, visitor: string, expiresAt: number) => hmac('sha256', secret, `${kind}.${visitor}.${expiresAt}`).toString('base64url');
  const make = (kind: Kind, visitor: string, expiresAt: number) => `${kind}.${visitor}.${expiresAt}.${sign(signing, kind, visitor, expiresAt)}`;
  const check = (kind: Kind, token: string, now: number): Session | undefined => {
    const [version, visitor, expires, mac, ...rest] = token.split('.');
    if (version !== kind || rest.length > 0 || !visitor || !VISITOR.test(visitor) || !expires || !/^\d{1,15}$/.test(expires) || !mac) return undefined;
    const expiresAt = Number(expires);
    if (expiresAt <= now || !keys.some((secret) => safeEqual(mac, sign(secret, kind, visitor, expiresAt)))) return undefined;
    return { visitor, expiresAt: new Date(expiresAt) };
  };
  const issue = (kind: Kind, ttlMs: number, visitor: string, now: number) => {
    const expiresAt = now + ttlMs;
    return { token: make(kind, visitor, expiresAt), visitor, expiresAt: new Date(expiresAt) };
  };
  return {
    issue: (ttlMs, visitor = randomId(), now = Date.now()) => issue('v1', ttlMs, visitor, now),
    verify: (token, now = Date.now()) => check('v1', token, now),
    issueRenew: (ttlMs, visitor, now = Date.now()) => issue('r1', ttlMs, visitor, now),
    verifyRenew: (token, now = Date.now()) => check('r1', token, now),
    streamToken: (session) => make('s1', session.visitor, session.expiresAt.getTime()),
    verifyStream: (token, now = Date.now()) => check('s1', token, now),
  };
}

/** The Set-Cookie value that stores a session token in the visitor's browser; `path` is /web as the browser sees it. */
export function sessionCookie(token: string, secure: boolean, path = '/web'): string {
  return `${SESSION_COOKIE}=${token}; Max-Age=${COOKIE_TTL_MS / 1000}; Path=${path}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/**
 * The session cookie's value in a Cookie header, if any. A host of the same site (a sibling
 * subdomain) can plant a cookie of this name, its own valid session, on a longer path that browsers
 * send first: taken, the visitor would chat on in a session whose conversations the planter reads.
 * So every value is looked at: one visitor's session is taken (one not valid beside it is skipped);
 * sessions of several visitors are none (the visitor starts afresh); none valid, the first, refused.
 */
export function cookieToken(header: string | undefined, sessions?: Pick<Sessions, 'verify'>): string | undefined {
  const values = readCookies(header, SESSION_COOKIE);
  if (values.length < 2 || !sessions) return values[0];
  const valid = values.flatMap((token) => {
    const session = sessions.verify(token);
    return session ? [{ token, visitor: session.visitor }] : [];
  });
  if (valid.length === 0) return values[0];
  return valid.every(({ visitor }) => visitor === valid[0]!.visitor) ? valid[0]!.token : undefined;
}
