/**
 * Who is asking the web chat:
 *
 * - `operator`: `Authorization: Bearer <WEB_TOKEN>` (server to server), every conversation;
 * - `visitor`: a session from POST /web/sessions (the `parley_web` cookie, a bearer token, or
 *   its `streamToken` as `?session=` on an event stream), only its own conversations;
 * - `local`: no credential, from this machine, on a loopback-only server without WEB_TOKEN (the
 *   no-setup `npm start`), every conversation as before sessions existed.
 *
 * Anything else is refused with 401: no credential off loopback, a forged or expired session, a
 * wrong token, a renew token (POST /web/sessions alone takes it: `renewingCaller`), WEB_TOKEN or a
 * session or renew token in a URL (`?token=` or `?session=`: proxies log URLs), and on any web chat
 * route but an event stream, a `?token=` or `?session=` whatever it holds (`refuseTokenInUrl`).
 */
import { HttpError, isLoopbackHost, pathOf, sameSecret, type HttpRequest } from 'parley/adapter-kit';
import { cookieToken, type Session, type Sessions } from './session.js';

export type Caller = { kind: 'operator' } | { kind: 'visitor'; visitor: string; session: Session } | { kind: 'local' };

export interface AccessSettings {
  /** WEB_TOKEN, the operator's key. */
  token?: string;
  /** Verifies session tokens; undefined until the adapter has started. */
  sessions?: Sessions;
  /** Whether credential-less requests from this machine are let in (loopback-only server, no WEB_TOKEN). */
  local: boolean;
}

const bearerOf = (request: HttpRequest) => /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();

/**
 * The credential a request carries: the bearer token, else `?session=` on an event stream, else the
 * cookie. `credentialsOf`: a developer's own route, where `?token=` or `?session=` may mean
 * something else (a page, a checkout): refused only when it holds one of parley's credentials.
 */
function credential(request: HttpRequest, settings: AccessSettings, ownRoute: boolean): { value: string; from: 'bearer' | 'query' | 'cookie' } | undefined {
  const credentialsOf = ownRoute ? settings : undefined;
  const bearer = bearerOf(request);
  if (bearer) return { value: bearer, from: 'bearer' };
  // The app's own routes are never the chat's event stream, whatever their path: a stream token there is refused.
  // A HEAD on the stream (its headers alone) takes the stream token as its GET does.
  const stream = !credentialsOf && (request.method === 'GET' || request.method === 'HEAD') && pathOf(request).endsWith('/events');
  refuseTokenInUrl(request, stream, credentialsOf);
  // EventSource cannot send headers: the session's stream token comes in the URL.
  const query = stream ? request.url.searchParams.get('session') : null;
  if (query) return { value: query, from: 'query' };
  const cookie = cookieToken(request.headers.cookie, settings.sessions);
  return cookie ? { value: cookie, from: 'cookie' } : undefined;
}

/**
 * Who is asking, or a 401 for a request nobody may make: the seam for per-visitor limits and for
 * every route that reads or writes a conversation.
 */
export function resolveCaller(request: HttpRequest, settings: AccessSettings, ownRoute = false): Caller {
  const given = credential(request, settings, ownRoute);
  if (!given) {
    if (settings.local && fromThisMachine(request)) return { kind: 'local' };
    // bot.fetch is handed no address unless the app passes it: say why this machine's own request was not let in.
    const unknownAddress = settings.local && request.remoteAddress === undefined ? ' A request handed to bot.fetch without { remoteAddress } is not known to come from this machine: pass it to chat without a session on loopback.' : '';
    throw new HttpError(401, 'session_required', `Start a visitor session with POST /web/sessions (or, server to server, send WEB_TOKEN as a bearer token).${unknownAddress}`);
  }
  if (settings.token && sameSecret(given.value, settings.token)) {
    if (given.from === 'query') throw tokenInUrl();
    return { kind: 'operator' };
  }
  // A URL's token (logged by proxies) is a stream token, good for that stream and nothing else.
  const session = given.from === 'query' ? settings.sessions?.verifyStream(given.value) : settings.sessions?.verify(given.value);
  if (session) return { kind: 'visitor', visitor: session.visitor, session };
  // A stream URL without a stream token (a page from before them, or a session an older process
  // started) opens with the visitor's cookie, as it would with no token in the URL.
  const cookie = given.from === 'query' ? cookieToken(request.headers.cookie, settings.sessions) : undefined;
  const byCookie = cookie ? settings.sessions?.verify(cookie) : undefined;
  if (byCookie) return { kind: 'visitor', visitor: byCookie.visitor, session: byCookie };
  // The session's own token or its renew token, put where its stream token belongs: refused as WEB_TOKEN is (it now sits in proxy logs).
  if (given.from === 'query' && (settings.sessions?.verify(given.value) || settings.sessions?.verifyRenew(given.value))) throw tokenInUrl();
  throw new HttpError(401, 'bad_session', 'The session is not valid (expired, or not signed by this server): start a new one with POST /web/sessions.');
}

/**
 * A 401 for a credential in the URL (`?token=` anywhere; `?session=` but on an event stream, which
 * cannot send headers): proxies log URLs. `?token=` is how the page sent WEB_TOKEN before sessions.
 * Without a bearer token only, as every route reads the credential (POST /web/sessions too, which
 * would otherwise start a stranger's session without a word).
 */
export function refuseTokenInUrl(request: HttpRequest, stream = false, credentialsOf?: AccessSettings): void {
  if (bearerOf(request)) return;
  const query = request.url.searchParams;
  const given = [...query.getAll('token'), ...(stream ? [] : query.getAll('session'))];
  if (given.some((value) => !credentialsOf || isCredential(value, credentialsOf))) throw tokenInUrl();
}

/** WEB_TOKEN, or a session, renew or stream token this server signed. */
function isCredential(value: string, settings: AccessSettings): boolean {
  const { token, sessions } = settings;
  return Boolean((token && sameSecret(value, token)) || sessions?.verify(value) || sessions?.verifyRenew(value) || sessions?.verifyStream(value));
}

function tokenInUrl(): HttpError {
  return new HttpError(
    401,
    'token_in_url',
    'WEB_TOKEN and session tokens are not taken from a URL (proxies log URLs): send them as `Authorization: Bearer <token>`, and open an event stream with the session’s streamToken as `?session=`.',
  );
}

/**
 * The visitor whose renew token is the request's bearer token, for POST /web/sessions alone: a
 * frame on another site (no cookie) keeps its visitor with it once its hour-long token has expired.
 */
export function renewingCaller(request: HttpRequest, settings: AccessSettings): Caller | undefined {
  const bearer = bearerOf(request);
  const session = bearer ? settings.sessions?.verifyRenew(bearer) : undefined;
  return session && { kind: 'visitor', visitor: session.visitor, session };
}

/** Like `resolveCaller`, but undefined instead of a 401 (POST /web/sessions starts a new session then). */
export function callerOrNothing(request: HttpRequest, settings: AccessSettings): Caller | undefined {
  try {
    return resolveCaller(request, settings);
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) return undefined;
    throw error;
  }
}

/**
 * Whether the request comes from this machine and no proxy relayed it. Embedded in someone
 * else's server (or a serverless function) the bind address says nothing, so the request's own
 * address decides.
 */
export function fromThisMachine(request: HttpRequest): boolean {
  const address = request.remoteAddress?.replace(/^::ffff:/, '');
  return address !== undefined && isLoopbackHost(address) && namesThisMachine(request.headers.host) && !RELAY_HEADERS.some((name) => request.headers[name] !== undefined);
}

/**
 * Whether the Host the browser asked for is this machine's (localhost, 127.x, [::1]). A page on
 * another name that resolves to 127.0.0.1 (DNS rebinding) reaches a loopback server with its own
 * name as the Host: it is a visitor like any other then, not this machine.
 */
function namesThisMachine(host: string | undefined): boolean {
  if (host === undefined) return true; // HTTP/1.0, or a fetch handler's request: no name was asked for
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  return isLoopbackHost(name) || name.toLowerCase().endsWith('.localhost');
}

/** Headers a reverse proxy, tunnel or CDN on this machine adds: a request carrying any came from elsewhere. */
const RELAY_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-host', 'x-forwarded-proto', 'via', 'cf-connecting-ip', 'true-client-ip', 'x-client-ip'];
