/* global document, fetch, sessionStorage, localStorage, window */
/**
 * The chat API as the page calls it, with a visitor session first (POST /web/sessions): the bearer
 * token is held in memory and renewed before it expires. The page also gets the session cookie;
 * the frame, often a third party on the website, gets no cookie: it keeps its token in
 * sessionStorage, so a reload continues the same chat, and the session's renew token (30 days,
 * like the cookie) in localStorage, so the visitor stays the same after the token's hour is up (a
 * laptop that slept, a visit the next day).
 */

// The API is served next to this module's folder: <base>web/assets/api.js.
const BASE = import.meta.url.replace(/web\/assets\/api\.js(?:[?#].*)?$/, '');
const FRAME = document.body.classList.contains('frame');
const SESSION_KEY = 'parley.session';
const RENEW_KEY = 'parley.renew';
/** Renew the session this long before it expires. */
const RENEW_BEFORE_MS = 5 * 60 * 1000;

/** A Web Storage area, or nothing where it is blocked (some third-party frames). */
const stored = (area) => ({
  get(key) {
    try { return area().getItem(key); } catch { return null; }
  },
  set(key, value) {
    try {
      if (value === null) area().removeItem(key);
      else area().setItem(key, value);
    } catch { /* storage unavailable (blocked in some third-party frames): memory only */ }
  },
});

/** sessionStorage: the tab's token and conversation. */
export const storage = stored(() => sessionStorage);
/** localStorage (kept per website by browsers): the frame's renew token. */
const lasting = stored(() => localStorage);

/** The visitor session: { token, streamToken, renewToken, expiresAt (ms), visitor }. Read-only outside this module. */
export let session = null;
let sessionStarting = null; // the POST /web/sessions in flight
let renewTimer = 0;
let renewalFailed = () => {};

/** What to do when a scheduled renewal fails (the session is retried on the next call). */
export function whenRenewalFails(callback) {
  renewalFailed = callback;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const readJson = (res) => res.json().catch(() => null);

/** What to tell the visitor about a refused request. */
export function problem(res, body) {
  const message = body && body.error && body.error.message;
  if (res.status === 429) {
    const seconds = Number(res.headers.get('retry-after'));
    const wait = seconds > 0 ? `${Math.ceil(seconds)} second${Math.ceil(seconds) === 1 ? '' : 's'}` : 'a moment';
    return `Too many requests: please wait ${wait} and try again.`;
  }
  if (res.status === 413) return message || 'That message is too long.';
  return message || `Something went wrong (HTTP ${res.status}).`;
}

/**
 * How far the server's clock is ahead of this browser's (ms). Expiry times are the server's; a
 * browser clock hours off (set by hand, or a dual-boot PC keeping local time as UTC) must neither
 * renew in a loop nor hold on to an expired token. Learnt from each session's `expiresIn`.
 */
let serverAhead = 0;
/** When a token expires by this browser's clock, from its own text (v1.<visitor>.<expiresAtMs>.<mac>, r1.… alike). */
const tokenExpiry = (token) => (Number(String(token || '').split('.')[2]) || 0) - serverAhead;
const unexpired = (token) => (token && tokenExpiry(token) > Date.now() + 5000 ? token : null);

export function startSession() {
  sessionStarting ??= (async () => {
    const held = session ? session.token : FRAME ? storage.get(SESSION_KEY) : null;
    // The frame has no cookie to fall back on: its renew token (30 days) keeps the visitor, also
    // once the hour-long token has expired (or the server's clock says so while ours does not).
    const renewToken = FRAME ? (session && session.renewToken) || lasting.get(RENEW_KEY) : null;
    const credential = unexpired(renewToken) || unexpired(held);
    const renewing = Boolean(credential);
    const request = (withToken) =>
      fetch(`${BASE}web/sessions`, {
        method: 'POST',
        headers: withToken ? { authorization: `Bearer ${credential}` } : {},
        credentials: 'same-origin',
        cache: 'no-store',
      });
    let res = await request(renewing);
    // A token the server no longer takes (its secret changed): start over as a new visitor.
    if (res.status === 401 && renewing) res = await request(false);
    const body = await readJson(res);
    if (!res.ok || !body || typeof body.token !== 'string') throw new ApiError(res.status, problem(res, body));
    const renewal = typeof body.renewToken === 'string' ? body.renewToken : null;
    const serverExpiry = Date.parse(body.expiresAt) || Number(String(body.token).split('.')[2]) || 0;
    // The session's expiry on this browser's clock: its length from now (an older server sends none: its time as it is).
    if (typeof body.expiresIn === 'number' && body.expiresIn > 0) serverAhead = serverExpiry - (Date.now() + body.expiresIn * 1000);
    session = { token: body.token, streamToken: body.streamToken, renewToken: renewal, expiresAt: serverExpiry - serverAhead, visitor: body.visitor };
    if (FRAME) {
      storage.set(SESSION_KEY, session.token);
      lasting.set(RENEW_KEY, renewal);
    }
    scheduleRenewal();
    return session;
  })().finally(() => {
    sessionStarting = null;
  });
  return sessionStarting;
}

function scheduleRenewal() {
  clearTimeout(renewTimer);
  const left = session.expiresAt - Date.now();
  const delay = Math.min(Math.max(left - RENEW_BEFORE_MS, left * 0.8, 5000), 2 ** 31 - 1);
  renewTimer = setTimeout(() => startSession().catch(() => renewalFailed()), delay);
}

/** The current session, renewed first when it is (nearly) expired (a laptop that slept). */
async function currentSession() {
  if (session && session.expiresAt - Date.now() > 30_000) return session;
  return startSession();
}

/** A call to the chat API with the session's bearer token; a 401 renews the session once. */
export async function api(method, path, body, retried = false) {
  const { token } = await currentSession();
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  if (res.status === 401 && !retried) {
    // Renew: the token is spent, the renew token (held in memory where there is no storage) is not.
    session = session && session.renewToken ? { ...session, token: null, expiresAt: 0 } : null;
    return api(method, path, body, true);
  }
  return res;
}

/** The visitor's most recently posted-to conversation, or null (none, or the list could not be read). */
export async function latestConversation() {
  try {
    const res = await api('GET', 'web/conversations');
    const body = res.ok ? await readJson(res) : null;
    const latest = body && Array.isArray(body.conversations) ? body.conversations[0] : null;
    return latest && typeof latest.id === 'string' ? latest.id : null;
  } catch {
    return null;
  }
}

/** Back from a sleeping laptop or a hidden tab: renew a session about to expire. */
export function renewIfStale() {
  if (session && session.expiresAt - Date.now() < RENEW_BEFORE_MS) startSession().catch(() => {});
}

/**
 * The URL of a path's event stream. EventSource sends no headers: the session's streamToken goes
 * in ?session= (the server takes that token for event streams only). A session an older server
 * started has none: the cookie alone opens the stream.
 */
export function eventsUrl(path) {
  // changes=1: after its first event (the whole transcript), a stream sends only what changed.
  const token = session && session.streamToken ? `&session=${encodeURIComponent(session.streamToken)}` : '';
  return `${BASE}${path}/events?changes=1${token}`;
}

/**
 * Waits before sending a message again whose POST got no answer (its 202 may have been lost) or a
 * 503 (the server's store stalled: the 503 may come after the message was taken). With its id, it
 * is shown and answered once either way.
 */
const RESEND_DELAYS_MS = [1000, 2000, 4000];
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** POST a message, sent again with its id on a network failure or a 503 (while `current()`) before the visitor is told. */
export async function postMessage(body, current, onRetry) {
  for (let attempt = 0; ; attempt++) {
    let res;
    try {
      res = await api('POST', 'web/messages', body);
    } catch (error) {
      if (error instanceof ApiError || attempt >= RESEND_DELAYS_MS.length || !current()) throw error;
    }
    if (res && (res.status !== 503 || attempt >= RESEND_DELAYS_MS.length || !current())) return res;
    onRetry();
    // A 503's Retry-After, up to 5 s: the visitor is waiting.
    const asked = res ? Math.min(Number(res.headers.get('retry-after')) || 0, 5) * 1000 : 0;
    if (res) await res.body?.cancel().catch(() => {});
    await pause(Math.max(RESEND_DELAYS_MS[attempt], asked));
  }
}

export const messageId = () => Array.from(window.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
