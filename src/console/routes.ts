/**
 * /console: the operator console's pages, its JSON API and its live overview (server-sent
 * events). Off unless ADMIN_TOKEN is set; every route but the sign-in page needs the session.
 * This file routes a request; the pages (pages.ts), sign-in (sign-in.ts) and API (api-routes.ts) answer it.
 */
import type { Logger } from 'pino';
import { mediaTypeOf, pathOf, publicPathOf, type HttpRequest, type HttpResponse } from '../adapter.js';
import type { ConversationLog } from '../conversation-log.js';
import { jsonError } from '../http/responses.js';
import type { OwnRoute } from '../http/router.js';
import type { JobData } from '../jobs.js';
import type { DeadLetter } from '../queue/index.js';
import { addressKey, clientAddress, type TrustProxy } from '../http/client-address.js';
import { bearerOf, ConsoleAuth } from './auth.js';
import { wrongConsoleMethod } from './api-methods.js';
import { api } from './api-routes.js';
import { outageOf } from './outage.js';
import { asset, page, secured, signInPage } from './pages.js';
import { bearerRefused, retryAfter, signIn, signOut } from './sign-in.js';
import { accessOf, SignedOutSessions } from './signed-out.js';
import type { Store } from '../store/index.js';
import { withTimeout } from '../timeout.js';
import { outcomeUnknown } from '../take-again.js';
import { SignInThrottle } from './sign-in-throttle.js';
import type { ViewDeps } from './views.js';

export interface ConsoleDeps extends ViewDeps {
  adminToken?: string;
  /** TRUST_PROXY: the sign-in throttle counts the forwarded client's address, not the proxy's. */
  trustProxy?: TrustProxy;
  conversationLog: ConversationLog;
  deadLetters: {
    list(): Promise<DeadLetter<JobData>[]>;
    replay(id: string): Promise<boolean | 'not_a_job'>;
    /** Absent when the queue has no dropDeadLetter (optional on JobQueue). */
    drop?(id: string): Promise<boolean>;
    replayAll(): Promise<number>;
    purge(): Promise<number>;
  };
  logger: Logger;
  /** Where sign-outs are kept (on Redis shared by every process), on the connection that fails fast. */
  sessions: Pick<Store, 'get' | 'set'>;
  /** The store's ping, on a connection that fails fast in an outage: it names why a read failed. */
  ping(): Promise<void>;
  /** Aborted when the bot closes: live overviews end then. */
  closing: AbortSignal;
}

/** A console read that has not answered by then is waiting for Redis: say so instead. */
const READ_WITHIN_MS = 2000;
const FAILED_SIGN_INS_PER_MINUTE = 10;
/** What the browser's Sec-Fetch-Site says of a form posted by a page of another origin. */
const FOREIGN_FORM = new Set(['cross-site', 'same-site']);

export function consoleRoutes(deps: ConsoleDeps): OwnRoute[] {
  // Guessing a 16+ character token is hopeless anyway; this keeps a script from trying at speed.
  const signIns = new SignInThrottle(FAILED_SIGN_INS_PER_MINUTE);
  const signedOut = new SignedOutSessions(deps.sessions, deps.adminToken ?? '');
  const handle = (request: HttpRequest) => handleConsole(deps, request, signIns, signedOut).then(secured);
  // Off, it only says how to turn it on, and only when parley serves alone: an app it is mounted in keeps /console.
  const unlessMounted = !deps.adminToken;
  return [
    { method: 'GET', path: '/console', handle, unlessMounted },
    { method: 'GET', path: '/console/', handle, unlessMounted },
    { method: 'POST', path: '/console/', handle, unlessMounted },
  ];
}

async function handleConsole(deps: ConsoleDeps, request: HttpRequest, signIns: SignInThrottle, signedOut: SignedOutSessions): Promise<HttpResponse> {
  if (!deps.adminToken) return jsonError(404, 'console_off', 'The operator console is off: set ADMIN_TOKEN (16+ characters) to turn it on.');
  const auth = new ConsoleAuth(deps.adminToken);
  const path = pathOf(request).replace(/\/+$/, '') || '/';
  const post = request.method === 'POST';
  // The console's two forms (sign in, sign out) are its own pages' only: another site's form, or another origin's on
  // this site (a sibling subdomain, another port), is refused before a token is read: it would sign the operator out,
  // or spend the sign-in attempts of the operator's address from the operator's own browser (a lock-out).
  if (post && (path === '/console/login' || path === '/console/logout') && FOREIGN_FORM.has(request.headers['sec-fetch-site'] ?? '')) {
    deps.logger.warn({ path, remoteAddress: request.remoteAddress }, 'console form posted from another origin: refused');
    return jsonError(403, 'cross_site', 'The console accepts its forms from its own pages only.');
  }
  if (path === '/console/login' && post) {
    const type = mediaTypeOf(request);
    // Not the sign-in form (a script's JSON): no token was read, so it is no wrong token either (not counted).
    if (type && type !== 'application/x-www-form-urlencoded') {
      return jsonError(415, 'unsupported_media_type', `Sign in with the form: send token=<ADMIN_TOKEN> as application/x-www-form-urlencoded, got "${type}" (a script may send ADMIN_TOKEN to the API as a bearer token instead).`);
    }
    const client = clientAddress(request, deps.trustProxy ?? false);
    const waitMs = signIns.refusedFor(addressKey(client));
    if (waitMs !== undefined) {
      deps.logger.warn({ client }, 'too many failed console sign-ins from this address');
      const page = await signInPage(429, 'Too many failed sign-in attempts from this address: wait a minute.', publicPathOf(request, '/console'));
      return { ...page, headers: { ...page.headers, 'retry-after': retryAfter(waitMs) } };
    }
    return signIn(auth, request, deps.logger, client, () => signIns.failed(addressKey(client)));
  }
  const home = publicPathOf(request, '/console');
  if (path === '/console/logout' && post) return signOut(auth, signedOut, request, deps.logger);
  // The sign-in form's answer stays at /console/login: reloading or bookmarking it lands on the console.
  if ((path === '/console/login' || path === '/console/logout') && !post) return { status: 303, headers: { location: home } };
  if (path.startsWith('/console/assets/') && !post) return asset(path.slice('/console/assets/'.length));
  const guarded = (path === '/console' && !post) || path.startsWith('/console/api/');
  if (guarded && bearerOf(request) !== undefined) {
    const refused = bearerRefused(deps, request, auth, signIns, path);
    if (refused) return refused;
  }
  const isPage = path === '/console' && !post;
  if (!isPage && !path.startsWith('/console/api/')) return jsonError(404, 'not_found', `Nothing is served at ${path}.`);
  // A store that cannot say whether the session was signed out (Redis down) lets reads through, as the console
  // promises to show an outage rather than sign the operator out; an action is refused (503) until it can.
  const access = await accessOf(auth, signedOut, request, deps.logger);
  if (isPage) return access === 'refused' ? signInPage(200, '', home) : page('app.html', home);
  if (access === 'refused') return jsonError(401, 'sign_in_required', 'Sign in at /console, or send ADMIN_TOKEN as a bearer token.');
  if (access === 'unknown' && post) {
    const outage = await outageOf(new Error('could not read whether the session was signed out'), deps.ping);
    return jsonError(503, outage.reason, `${outage.message} Actions wait until the console can check that this session was not signed out.`, { 'retry-after': '5' });
  }
  if (post && mediaTypeOf(request) !== 'application/json') {
    // A cross-site form cannot send JSON: this keeps the console's actions to the console. A read POSTed to is told its method first.
    return wrongConsoleMethod(path.slice('/console/api'.length), post) ?? jsonError(415, 'unsupported_media_type', 'Send the console API application/json.');
  }
  const stillSignedIn = async () => (await accessOf(auth, signedOut, request, deps.logger)) !== 'refused';
  const answer = api(deps, request, path.slice('/console/api'.length), post, stillSignedIn);
  // A read is bounded: the queue's connection waits for a Redis it has never reached. Actions are not.
  return (post || path === '/console/api/events' ? answer : withTimeout(answer, READ_WITHIN_MS, `no answer to the read within ${READ_WITHIN_MS} ms`)).catch(async (error: unknown) => {
    // An action Redis got but did not answer in time may still be carried out: not "nothing happened".
    if (post && outcomeUnknown(error)) {
      deps.logger.warn({ err: error, path }, 'console action sent with no answer from the store: it may still be carried out');
      return jsonError(503, 'outcome_unknown', 'The store (Redis) did not answer in time: this action may still be carried out once it does. Reload to see what it did before trying again.', { 'retry-after': '5' });
    }
    // Not the router's webhook refusal: the operator is told what is down, as /readyz says it.
    const outage = await outageOf(error, deps.ping);
    deps.logger.warn({ err: error, path }, 'console API failed');
    return jsonError(503, outage.reason, outage.message, { 'retry-after': '5' });
  });
}