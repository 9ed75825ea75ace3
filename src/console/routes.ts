/**
 * /console: the operator console's pages, its JSON API and its live overview (server-sent
 * events). Off unless ADMIN_TOKEN is set; every route but the sign-in page needs the session.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { mediaTypeOf, pathOf, publicPathOf, type HttpRequest, type HttpResponse } from '../adapter.js';
import type { ConversationLog } from '../conversation-log.js';
import { escapeHtml } from '../http/cookies.js';
import { json, jsonError } from '../http/responses.js';
import type { OwnRoute } from '../http/router.js';
import type { JobData } from '../jobs.js';
import type { DeadLetter } from '../queue/index.js';
import { addressKey, clientAddress, type TrustProxy } from '../http/client-address.js';
import { bearerOf, ConsoleAuth } from './auth.js';
import { wrongConsoleMethod } from './api-methods.js';
import { setBudgetLimit } from './budget-limit.js';
import { budgetQueryOf } from './budget-page.js';
import { conversations, transcript } from './conversations.js';
import { outageOf } from './outage.js';
import { withTimeout } from '../timeout.js';
import { outcomeUnknown } from '../take-again.js';
import { SignInThrottle } from './sign-in-throttle.js';
import { budgets, deadLetterView, overview, type ViewDeps } from './views.js';

export interface ConsoleDeps extends ViewDeps {
  adminToken?: string;
  /** TRUST_PROXY: the sign-in throttle counts the forwarded client's address, not the proxy's. */
  trustProxy?: TrustProxy;
  conversationLog: ConversationLog;
  deadLetters: { list(): Promise<DeadLetter<JobData>[]>; replay(id: string): Promise<boolean | 'not_a_job'>; replayAll(): Promise<number>; purge(): Promise<number> };
  logger: Logger;
  /** The store's ping, on a connection that fails fast in an outage: it names why a read failed. */
  ping(): Promise<void>;
  /** Aborted when the bot closes: live overviews end then. */
  closing: AbortSignal;
}

const LIVE_EVERY_MS = 2000;
/** Overviews a live stream's client may leave untaken before it is taken for gone. */
const LIVE_STALLED_AFTER = 15;
/** A console read that has not answered by then is waiting for Redis: say so instead. */
const READ_WITHIN_MS = 2000;
const FAILED_SIGN_INS_PER_MINUTE = 10;
/** What the browser's Sec-Fetch-Site says of a form posted by a page of another origin. */
const FOREIGN_FORM = new Set(['cross-site', 'same-site']);
/** The page's script, console.js, and the ES modules it imports. */
const SCRIPTS = ['console.js', 'api.js', 'dom.js', 'format.js', 'overview.js', 'chart.js', 'budgets.js', 'budget-limits.js', 'conversations.js', 'dead-letters.js'];
/** What /console/assets/<name> serves: these and nothing else (a fixed list: no path is ever built from the URL). */
const ASSETS = new Map<string, string>([['console.css', 'text/css; charset=utf-8'], ...SCRIPTS.map((name): [string, string] => [name, 'text/javascript; charset=utf-8'])]);
/** The page runs only its own script and style, cannot be framed, and posts only to itself. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function consoleRoutes(deps: ConsoleDeps): OwnRoute[] {
  // Guessing a 16+ character token is hopeless anyway; this keeps a script from trying at speed.
  const signIns = new SignInThrottle(FAILED_SIGN_INS_PER_MINUTE);
  const handle = (request: HttpRequest) => handleConsole(deps, request, signIns).then(secured);
  // Off, it only says how to turn it on, and only when parley serves alone: an app it is mounted in keeps /console.
  const unlessMounted = !deps.adminToken;
  return [
    { method: 'GET', path: '/console', handle, unlessMounted },
    { method: 'GET', path: '/console/', handle, unlessMounted },
    { method: 'POST', path: '/console/', handle, unlessMounted },
  ];
}

async function handleConsole(deps: ConsoleDeps, request: HttpRequest, signIns: SignInThrottle): Promise<HttpResponse> {
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
  if (path === '/console/logout' && post) return { status: 303, headers: { location: home, 'set-cookie': auth.signOut(request) } };
  // The sign-in form's answer stays at /console/login: reloading or bookmarking it lands on the console.
  if ((path === '/console/login' || path === '/console/logout') && !post) return { status: 303, headers: { location: home } };
  if (path.startsWith('/console/assets/') && !post) return asset(path.slice('/console/assets/'.length));
  const guarded = (path === '/console' && !post) || path.startsWith('/console/api/');
  if (guarded && bearerOf(request) !== undefined) {
    const refused = bearerRefused(deps, request, auth, signIns, path);
    if (refused) return refused;
  }
  if (path === '/console' && !post) return auth.allows(request) ? page('app.html', home) : signInPage(200, '', home);
  if (!path.startsWith('/console/api/')) return jsonError(404, 'not_found', `Nothing is served at ${path}.`);
  if (!auth.allows(request)) return jsonError(401, 'sign_in_required', 'Sign in at /console, or send ADMIN_TOKEN as a bearer token.');
  if (post && mediaTypeOf(request) !== 'application/json') {
    // A cross-site form cannot send JSON: this keeps the console's actions to the console. A read POSTed to is told its method first.
    return wrongConsoleMethod(path.slice('/console/api'.length), post) ?? jsonError(415, 'unsupported_media_type', 'Send the console API application/json.');
  }
  const answer = api(deps, request, path.slice('/console/api'.length), post);
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

async function api(deps: ConsoleDeps, request: HttpRequest, path: string, post: boolean): Promise<HttpResponse> {
  const query = request.url.searchParams;
  if (!post) {
    if (path === '/overview') return json(200, await overview(deps));
    if (path === '/events') return live(deps, () => new ConsoleAuth(deps.adminToken!).allows(request));
    if (path === '/budgets') return json(200, await budgets(deps, new Date(), budgetQueryOf(query)));
    if (path === '/alerts') return json(200, { alerts: await deps.alerts.recent(100) });
    if (path === '/dead-letters') return json(200, { deadLetters: (await deps.deadLetters.list()).map(deadLetterView) });
    if (path === '/conversations') return conversations(deps.conversationLog, query);
    if (path.startsWith('/conversations/')) {
      const id = decoded(path.slice('/conversations/'.length));
      if (id === undefined) return badId();
      return transcript(deps.conversationLog, id);
    }
  } else {
    const replay = path.match(/^\/dead-letters\/([^/]+)\/replay$/);
    if (replay) {
      const id = decoded(replay[1]!);
      if (id === undefined) return badId();
      const replayed = await deps.deadLetters.replay(id);
      if (replayed === 'not_a_job') return jsonError(409, 'not_a_job', `Dead letter ${id} is not a parley job: replayed, it would only fail again. Read it, then drop it (parley dlq drop ${id}).`);
      if (!replayed) return jsonError(404, 'not_found', `No dead letter ${id}.`);
      deps.logger.info({ deadLetter: id }, 'dead letter replayed from the console');
      return json(200, { replayed: true });
    }
    if (path === '/budgets/limit') return setBudgetLimit(deps.limits, bodyOf(request));
    if (path === '/dead-letters/replay-all') {
      const replayed = await deps.deadLetters.replayAll();
      deps.logger.info({ replayed }, 'dead letters replayed from the console');
      return json(200, { replayed });
    }
    if (path === '/dead-letters/purge') {
      if (bodyOf(request)?.confirm !== 'purge') return jsonError(400, 'confirmation_required', 'Purging drops every dead letter for good: send {"confirm":"purge"}.');
      const purged = await deps.deadLetters.purge();
      deps.logger.warn({ purged }, 'dead letters purged from the console');
      return json(200, { purged });
    }
  }
  return wrongConsoleMethod(path, post) ?? jsonError(404, 'not_found', `Nothing is served at /console/api${path}.`);
}

/** The overview now and every 2 s (`unavailable` instead while it cannot be read), until the client goes, the bot closes, or the session it was opened with ends. */
function live(deps: ConsoleDeps, signedIn: () => boolean): HttpResponse {
  async function* events(): AsyncGenerator<string> {
    yield 'retry: 5000\n\n';
    while (!deps.closing.aborted) {
      // A tab left open past its 12 hours stops here; its reconnect is refused (401).
      if (!signedIn()) return;
      try {
        yield `event: overview\ndata: ${JSON.stringify(await overview(deps))}\n\n`;
      } catch (error) {
        deps.logger.warn({ err: error }, 'could not build the console overview');
        // A real event (a comment never reaches the page): the page marks its figures stale.
        yield `event: unavailable\ndata: ${JSON.stringify({ ...(await outageOf(error, deps.ping)), at: new Date().toISOString() })}\n\n`;
      }
      await pause(LIVE_EVERY_MS, deps.closing);
    }
  }
  // nginx passes each overview on at once, and an app's compression() middleware does too (no-transform:
  // it would hold them in its gzip buffer); a tab that takes nothing for 15 of them (a frozen tab, a
  // dead link) is cut rather than held until TCP gives up.
  const headers = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' };
  return { status: 200, headers, stream: events(), stallTimeoutMs: LIVE_STALLED_AFTER * LIVE_EVERY_MS };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

function signIn(auth: ConsoleAuth, request: HttpRequest, logger: Logger, client: string, failed: () => void): HttpResponse | Promise<HttpResponse> {
  const token = new URLSearchParams(request.body.toString('utf8')).get('token') ?? '';
  if (!auth.isToken(token)) {
    failed();
    logger.warn({ client }, 'console sign-in refused: wrong token');
    return signInPage(401, 'That is not the admin token.', publicPathOf(request, '/console'));
  }
  logger.info({ client }, 'console sign-in');
  return { status: 303, headers: { location: publicPathOf(request, '/console'), 'set-cookie': auth.signIn(request) } };
}

/**
 * A bearer token is a sign-in by script: a wrong one counts against the address as a wrong form
 * sign-in does (else the API is a way round the throttle), and past the limit every bearer token
 * from that address is refused before it is looked at, the right one too. Sessions are not.
 */
function bearerRefused(deps: ConsoleDeps, request: HttpRequest, auth: ConsoleAuth, signIns: SignInThrottle, path: string): HttpResponse | undefined {
  const client = clientAddress(request, deps.trustProxy ?? false);
  const waitMs = signIns.refusedFor(addressKey(client));
  if (waitMs !== undefined) {
    deps.logger.warn({ client, path }, 'too many failed console sign-ins from this address: bearer token refused');
    return jsonError(429, 'too_many_attempts', 'Too many wrong tokens from this address: wait a minute.', { 'retry-after': retryAfter(waitMs) });
  }
  if (!auth.isToken(bearerOf(request)!)) {
    signIns.failed(addressKey(client));
    deps.logger.warn({ client, path }, 'console bearer token refused: wrong token');
  }
  return undefined;
}

function retryAfter(waitMs: number): string {
  return String(Math.max(1, Math.ceil(waitMs / 1000)));
}

async function signInPage(status: number, error: string, home: string): Promise<HttpResponse> {
  const html = (await page('login.html', home)).body as string;
  return { status, headers: { 'content-type': 'text/html; charset=utf-8' }, body: html.replace('{{error}}', escapeHtml(error)) };
}

/** A page, its links under `home` (the console's path as the browser sees it, mount prefix included). */
async function page(name: string, home: string): Promise<HttpResponse> {
  const html = (await assetText(name)).replaceAll('{{home}}', escapeHtml(home));
  return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: html };
}

async function asset(name: string): Promise<HttpResponse> {
  const type = ASSETS.get(name);
  if (!type) return jsonError(404, 'not_found', `No console asset ${name}.`);
  return { status: 200, headers: { 'content-type': type }, body: await assetText(name) };
}

const cache = new Map<string, Promise<string>>();
function assetText(name: string): Promise<string> {
  let text = cache.get(name);
  if (!text) {
    text = readFile(new URL(`./assets/${name}`, import.meta.url), 'utf8');
    text.catch(() => cache.delete(name));
    cache.set(name, text);
  }
  return text;
}

function secured(response: HttpResponse): HttpResponse {
  return { ...response, headers: { ...SECURITY_HEADERS, ...response.headers } };
}

function bodyOf(request: HttpRequest): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(request.body.toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A path segment decoded; undefined when its percent-encoding is malformed (decodeURIComponent would throw: a 503). */
function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function badId(): HttpResponse {
  return jsonError(400, 'malformed_id', 'The id in the path is not valid percent-encoding.');
}
